"""Catalog columns: the names and codes of institutional entities — a course's subject,
number and title, a section's number, a campus's name and code, an assignment group's name —
that generation otherwise builds from its built-in catalog. (A course's code and a section's
LMS name stay built from these, so that a code's prefix is always the course's subject.)

Where the source holds such a column (the registry marks it `learnable`), its values are
learned as a categorical: courses, sections, campuses and groups are not people, so their
names are counted in rows (the privacy guard's institutional cells) and every value is kept.
A subject is learned given the course's CIP family, a campus code given its name, when the
source has both, so the two keep agreeing. The built-in catalog stays the default when the source lacks the column, when the
column reads like free text (long or e-mail-like values) or when it has more distinct values
than a catalog plausibly holds; each such case is a note.
"""

from __future__ import annotations

from distributions._columns import FREE_TEXT_LENGTH, Stats, column_stats
from distributions._estimators import Missing
from distributions._privacy import check_allowed

# columns naming a course, best first: the first the source holds tells whether courses recur
COURSE_IDENTITY = (("title",), ("le_code",), ("subject", "number"))
RECURRING = 1.5  # offerings per distinct course from which the source's courses recur
CATALOG_MAX = 2000  # distinct values above which a column is not a catalog to learn
# a learnable column drawn given another column of its table, when the source has that one
ANCHORS = {("course_offering", "subject"): "cip_family", ("campus", "code"): "name"}


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
    """A categorical of the column's values, given its anchor where the source has one."""
    anchor = ANCHORS.get((table, name))
    other = {"kind": "categorical", "values": []}
    if anchor and p.reader.has(table, anchor):
        template = {"kind": "conditional", "given": [anchor], "otherwise": other}
        return p._conditional_column(table, name, path, template)
    counts = p._value_cells(table, name, []).get((), {})
    return p._categorical(path, counts, True, other, nullable=False)


def _keep_rule(p, table: str, name: str, reason: str) -> None:
    gen = p.entities[table].column(name).gen
    p.column_status[(table, name)] = ("read", f"generated by the `{gen}` rule from the "
                                      f"built-in catalog: {reason}")
    p.notes.append(f"/tables/{table}/columns/{name}: kept the built-in catalog ({reason})")
