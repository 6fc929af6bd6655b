"""Catalog columns: the names and codes of institutional entities — a course's subject,
number and title, a section's number, a campus's name and code, an assignment group's name
and an assignment's title — that generation otherwise builds from its built-in catalog. (A
course's code and a section's LMS name stay built from these, so that a code's prefix is
always the course's subject.)

Where the source holds such a column (the registry marks it `learnable`), its values are
learned as a categorical: courses, sections, campuses and groups are not people, so their
shares are counted in rows, but a value (a title, a campus) is published only when at least k
distinct people are enrolled behind it — a course taken by a handful of students is not.
A subject is learned given the course's CIP family, a course's title and number given its
subject, a campus code given its name and an assignment's title given its group's name, when
the source has both, so that they keep agreeing (a course's title belongs to its subject).
The built-in catalog stays the default when the source lacks the column, when the
column reads like free text (long or e-mail-like values) or when it has more distinct values
than a catalog plausibly holds; each such case is a note.
"""

from __future__ import annotations

from distributions._columns import FREE_TEXT_LENGTH, Stats, column_stats
from distributions._estimators import Cell, Missing
from distributions._privacy import check_allowed

# columns naming a course, best first: the first the source holds tells whether courses recur
COURSE_IDENTITY = (("title",), ("le_code",), ("subject", "number"))
RECURRING = 1.5  # offerings per distinct course from which the source's courses recur
# how the people behind a table's value are reached: its column naming a section's parent
# (or the section itself) and the course_section column that column matches (None: itself)
PEOPLE_PATHS = {"course_offering": ("course_offering_id", "course_offering_id"),
                "learner_activity_group": ("course_offering_id", "course_offering_id"),
                "learner_activity": ("course_offering_id", "course_offering_id"),
                "campus": ("campus_id", "campus_id"),
                "course_section": ("course_section_id", None)}
CATALOG_MAX = 2000  # distinct values above which a column is not a catalog to learn
# a learnable column drawn given another column of its table, when the source has that one
ANCHORS = {("course_offering", "subject"): "cip_family", ("campus", "code"): "name",
           ("course_offering", "title"): "subject", ("course_offering", "number"): "subject",
           ("learner_activity", "title"): "learner_activity_group_id.name"}


def catalog_part(p, profile: dict) -> None:
    """Learn every learnable catalog column the source holds into `profile`."""
    p.column_status = getattr(p, "column_status", {})
    for table in sorted(set(p.reader.tables) & set(p.entities)):
        names = [c.name for c in p.entities[table].columns
                 if c.learnable and p.reader.has(table, c.name)]
        if not names:
            continue
        stats = column_stats(p, table, {name: "string" for name in names})
        for name in names:
            _learn(p, profile, table, name, stats[name])
    if "course_offering" in p.reader.tables:
        recurrence_part(p, profile)


def recurrence_part(p, profile: dict) -> None:
    """Whether the source's courses recur across terms (the same title again each term) or
    are each offered once: `recurring` on course_offering, which the generator reads to key
    a course's CIP family, level, code and title by its position in the term or per row."""
    table, path = "course_offering", "/tables/course_offering/recurring"
    columns = next((c for c in COURSE_IDENTITY if all(p.reader.has(table, n) for n in c)), None)
    if columns is None:
        p.notes.append(f"{path}: kept the default (the source names no course: no "
                       f"{', no '.join('+'.join(c) for c in COURSE_IDENTITY)})")
        return
    identity = " || '|' || ".join(p.reader.col(table, c, "text") for c in columns)
    row = p.reader.rows(f"SELECT COUNT(*) AS n, COUNT(DISTINCT {identity}) AS d "
                        f"FROM {p.reader.rel(table)} AS t")[0]
    per_course = int(row["n"]) / max(int(row["d"]), 1)
    recurring = per_course >= RECURRING
    profile["tables"][table]["recurring"] = recurring
    p.notes.append(f"{path}: {str(recurring).lower()} ({per_course:.2f} offerings per distinct "
                   f"{'+'.join(columns)}: courses {'recur' if recurring else 'are offered once'})")


def _learn(p, profile: dict, table: str, name: str, stats: Stats) -> None:
    path = f"/tables/{table}/columns/{name}"
    reason = _not_a_catalog(stats)
    if reason:
        _keep_rule(p, table, name, reason)
        return
    check_allowed(p.registry, table, name)
    try:
        dist = _distribution(p, table, name, path)
    except Missing as missing:
        _keep_rule(p, table, name, str(missing))
        return
    if dist is None:
        _keep_rule(p, table, name, "no value survives the privacy rules")
        return
    profile["tables"].setdefault(table, {"columns": {}})["columns"][name] = dist
    given = f" given {', '.join(dist['given'])}" if dist["kind"] == "conditional" else ""
    p.notes.append(f"{path}: learned from the source ({stats.distinct:,} distinct values"
                   f"{given}) instead of the built-in catalog")


def _not_a_catalog(stats: Stats) -> str | None:
    """Why a column's values are not catalog names to learn, or None."""
    if stats.n == 0:
        return "every value is null"
    if stats.emails:
        return f"e-mail-like values ({stats.emails:,} of {stats.n:,})"
    if stats.length > FREE_TEXT_LENGTH:
        return f"free text (mean length {stats.length:.0f} characters)"
    if stats.distinct > CATALOG_MAX:
        return f"{stats.distinct:,} distinct values, more than a catalog of {CATALOG_MAX:,}"
    return None


def _distribution(p, table: str, name: str, path: str) -> dict | None:
    """A categorical of the column's values, given its anchor where the source has one; a
    value (or a cell) with fewer than k people enrolled behind it is left out."""
    anchor = ANCHORS.get((table, name))
    given = [anchor] if anchor and _has(p, table, anchor) else []
    pooled = catalog_categorical(p, path, catalog_cells(p, table, name, []).get((), {}))
    if not given:
        return pooled
    counts = catalog_cells(p, table, name, given)
    cells = {g: catalog_categorical(p, f"{path}/cells[{','.join(map(str, g))}]", c)
             for g, c in counts.items()}
    return p._conditional(path, {"given": given}, cells, pooled,
                          {g: sum(c.values()) for g, c in counts.items()})


def catalog_categorical(p, path: str, counts: dict) -> dict | None:
    """Shares of the values as text; a value below k people is dropped, not merged (an
    `Other` course title would be a made-up name)."""
    counts = {str(v): c for v, c in counts.items() if v is not None}
    return p.guard.categorical(path, counts, text=False, nodata=False) if counts else None


def catalog_cells(p, table: str, name: str, given: list[str]) -> dict[tuple, dict]:
    """{given values: {value: Cell}}: the table's rows (the shares) and the distinct people
    enrolled behind them (the k rule)."""
    rows = p._value_cells(table, name, given)
    people = _people(p, table, name, given)
    return {g: {v: Cell(float(c), people.get((*g, v), 0.0)) for v, c in values.items()}
            for g, values in rows.items()}


def _people(p, table: str, name: str, given: list[str]) -> dict[tuple, float]:
    """{(given values.., value): distinct people enrolled in the sections behind them}."""
    r = p.reader
    key, section_column = PEOPLE_PATHS[table]
    base = p._value_base(table, name, given, pid=r.col(table, key, "text"))
    keys = ", ".join([*(f"b.g{i}" for i in range(len(given))), "b.v"])
    # each distinct (value, parent) once, joined to each parent's distinct people once: the
    # join grows with values × people, not with rows × enrollments
    rows = r.rows(f"SELECT {keys}, COUNT(DISTINCT x.person) AS people FROM (SELECT DISTINCT "
                  f"{keys.replace('b.', '')}, pid FROM ({base}) AS b0) AS b JOIN "
                  f"({_people_of(r, section_column)}) AS x ON x.pid = b.pid GROUP BY {keys}")
    names = [*(f"g{i}" for i in range(len(given))), "v"]
    return {tuple(row[n] for n in names): float(row["people"]) for row in rows}


def _people_of(r, section_column: str | None) -> str:
    """SELECT DISTINCT pid (a section's `section_column` as text, or the section itself),
    person: who is enrolled behind each parent."""
    enrollment = r.rel("course_section_enrollment")
    in_section = r.col("course_section_enrollment", "course_section_id", "text", "e")
    person = r.col("course_section_enrollment", "person_id", "text", "e")
    if not section_column:
        return f"SELECT DISTINCT {in_section} AS pid, {person} AS person FROM {enrollment} AS e"
    return (f"SELECT DISTINCT {r.col('course_section', section_column, 'text', 's')} AS pid, "
            f"{person} AS person FROM {r.rel('course_section')} AS s JOIN {enrollment} AS e "
            f"ON {in_section} = {r.col('course_section', 'course_section_id', 'text', 's')}")


def _has(p, table: str, column: str) -> bool:
    """Whether the source has `column` of `table`, or `fk.column` of the parent it names."""
    if "." not in column:
        return p.reader.has(table, column)
    fk, rest = column.split(".", 1)
    parent = p.entities[table].parent_of(fk)
    return p.reader.has(table, fk) and parent is not None and _has(p, parent, rest)


def _keep_rule(p, table: str, name: str, reason: str) -> None:
    gen = p.entities[table].column(name).gen
    p.column_status[(table, name)] = ("read", f"generated by the `{gen}` rule from the "
                                      f"built-in catalog: {reason}")
    p.notes.append(f"/tables/{table}/columns/{name}: kept the built-in catalog ({reason})")
