"""Labels tied to scores: the institution's outcome labels and bands (an enrollment's final
result, a person's deprivation band) drawn on the latent engagement that drives scores.

For each text extra of `course_section_enrollment` or `person`, aggregate SQL gives each
value's mean score ratio (over the student enrollments, or the people, holding it) and the
Spearman correlation between the mean score and the value's rank in that order — within the
cells of the column the extra was learned to follow (`_dependencies.extra_dependency_part`:
an outcome label given `role_status`), so the tie adds only what the cells leave. Where that
correlation is not negligible, the profile's `engagement.ties` stores the order (lowest mean
score first) and the copula correlation that reproduces it, solved on the gradebook
simulation of `_engagement.py`. The generator then draws the column on Φ(ρ·latent + noise)
with its values in that order; its shares stay the profile's. A numeric extra (a
registration day) is tied the same way with an empty order: its quantiles are the order.
"""

from __future__ import annotations

import math

from distributions._engagement import Simulation
from distributions._estimators import Missing, ranked_value
from distributions._noisy_ties import (
    cell_spearmans,
    noised_label_stats,
    noised_value_spearman,
    tie_path,
)
from distributions._tie_chain import Chain, continuous_leaves, drawn_spec, leaf, shares
from distributions._tie_share import PersonSimulation, graded_model
from pipeline.errors import SourceError

TABLES = ("course_section_enrollment", "person")
_MIN_SPEARMAN = 0.05


def tie_part(p, profile: dict) -> None:
    """Learn `engagement.ties` for the extras that follow scores (notes say which), on the
    gradebook simulation `engagement_part` left (none: the source has no scores)."""
    if getattr(p, "engagement_model", None) is None:
        return
    results, transform, score_rho = p.engagement_model
    per_person = _enrollments_per_student(p)
    share = float(profile["engagement"]["student_share"])
    # an enrollment's label: its own latent and results; a person's: the mean latent of their
    # enrollments (the generator's `person_engagement`), over their graded results
    sims = {"course_section_enrollment": (Simulation(results, transform), 1.0),
            "person": (PersonSimulation(results, transform, per_person, share,
                                        graded_model(profile), profile["tables"][
                                            "learner_activity"]["rows"].get(
                                            "per_grandparent")), 1.0)}
    ties: dict = {}
    for table in TABLES:
        extras = profile["tables"].get(table, {}).get("extras", {})
        columns = profile["tables"].get(table, {}).get("columns", {})
        for column in _tree_order(extras, columns):
            spec = columns.get(column, {})
            kind = _tie_kind(extras[column], spec)
            if kind is None:
                continue
            chain = Chain(*sims[table], table, columns, ties, profile["engagement"])
            try:
                tie = (_tie(p, table, column, spec, chain, score_rho) if kind == "label" else
                       _continuous_tie(p, table, column, *sims[table], score_rho))
            except (Missing, SourceError) as error:
                p.notes.append(f"/engagement/ties: {table}.{column} not scored ({error})")
                continue
            if tie is not None:
                ties[f"{table}.{column}"] = tie
            elif p.guard.epsilon is not None:
                p.notes.append(f"/engagement/ties: {table}.{column} not tied (under epsilon: "
                               "too few noised people, a Spearman whose noise sd exceeds "
                               "0.1, or a weak tie)")
    if ties:
        profile["engagement"]["ties"] = ties


def _enrollments_per_student(p) -> float:
    r = p.reader
    role = r.col("course_section_enrollment", "role", "text", "t")
    value = r.scalar(f"SELECT COUNT(*) * 1.0 / COUNT(DISTINCT t.{r.sql.ident('person_id')}) "
                     f"FROM {r.rel('course_section_enrollment')} AS t WHERE {role} = 'Student'")
    return max(float(value or 1.0), 1.0)


def _tie_kind(extra: dict, spec: dict) -> str | None:
    """"label" for a text extra (its own shares, or given one column of its table, inside
    its always-null cells if any), "value" for a number drawn from quantiles (in every cell,
    if given a column), None for what is not drawn on a uniform."""
    drawn = drawn_spec(spec)
    if extra.get("type") == "string" and (drawn.get("kind") == "categorical" or (
            drawn.get("kind") == "conditional" and len(drawn["given"]) == 1
            and "." not in drawn["given"][0])):
        return "label"
    if extra.get("type") in ("int64", "float64") and continuous_leaves(spec):
        return "value"
    return None


def _tree_order(extras: dict, columns: dict) -> list[str]:
    """The extras, each after the extra it is drawn given (its tie is learned on that one's)."""
    order, pending = [], sorted(extras)
    while pending:
        ready = [c for c in pending if _given_of(columns.get(c, {})) not in pending] or pending
        order.append(ready[0])
        pending.remove(ready[0])
    return order


def _given_of(spec: dict) -> str | None:
    drawn = drawn_spec(spec)
    return drawn["given"][0] if drawn.get("kind") == "conditional" else None


def _tie(p, table: str, column: str, spec: dict, chain: Chain, score_rho: float):
    """The order and rho of a label; for one drawn given a column, the rho reproducing the
    source's Spearman within that column's cells (what the cells' shares leave to scores) —
    where that column is drawn on the latent too, on the latent standardized within its
    cells (`within`: each cell's mean and sd of the latent, so the cells keep their shares;
    `_tie_chain.py` replays those draws)."""
    spec = drawn_spec(spec)  # its always-null cells (teachers) take no draw
    given = spec["given"][0] if spec["kind"] == "conditional" else None
    overall = shares(spec["otherwise"] if given else spec)
    if p.guard.epsilon is not None:  # noised sufficient statistics (_noisy_ties)
        path = tie_path(table, column)
        found, cells = noised_label_stats(p, path, _base(p, table, column, given),
                                          table != "person")
    else:
        found = dict(_value_means(p, table, column))
    means = {v: m for v, m in found.items() if v in overall}
    if len(means) < 2:
        return None
    order = sorted(means, key=lambda v: (means[v], str(v)))
    per_cell = cell_spearmans(p, path, cells, order) if p.guard.epsilon is not None else \
        _cell_spearmans(p, table, column, order, given)
    if not per_cell:
        return None
    target = sum(s * n for _, s, n in per_cell) / sum(n for _, _, n in per_cell)
    if abs(target) < _MIN_SPEARMAN:
        return None
    groups = chain.groups(given) if given else None
    codes, mapping = groups or (None, {})
    cells = [([_cell_shares(spec, given, g).get(v, 0.0) for v in order], n,
              mapping.get(str(g), -1)) for g, _, n in per_cell]
    rho = chain.sim.label_rho(target, cells, score_rho, chain.level, given=codes)
    within = f" within the cells of {given}" if given else ""
    p.notes.append(f"/engagement/ties/{table}.{column}: drawn on engagement, rho "
                   f"{rho:.3f} (source Spearman with the mean score{within} {target:.3f}; "
                   f"order {', '.join(map(str, order))})")
    tie = {"rho": round(rho, 4), "order": order}
    if groups:
        tie["within"] = chain.within(given, groups)
    return tie


def _continuous_tie(p, table: str, column: str, sim, level: float, score_rho: float):
    """A number's rho: its quantiles drawn on Φ(ρ·latent + noise), so that its Spearman with
    the mean score is the source's (order empty: the quantiles are the order)."""
    base = _base(p, table, column, value="number")
    if p.guard.epsilon is not None:  # a noised (n, Σ u·w) (_noisy_ties)
        target = noised_value_spearman(p, tie_path(table, column), base, table != "person")
    else:
        rows = [r for r in p.reader.rows(_spearman_sql(base, "v", None)) if r["s"] is not None
                and not math.isnan(r["s"]) and r["n"] >= p.guard.k]
        target = float(rows[0]["s"]) if rows else None
    if target is None or abs(target) < _MIN_SPEARMAN:
        return None
    rho = sim.label_rho(target, None, score_rho, level)
    p.notes.append(f"/engagement/ties/{table}.{column}: drawn on engagement, rho {rho:.3f} "
                   f"(source Spearman with the mean score {target:.3f})")
    return {"rho": round(rho, 4), "order": []}


def _cell_shares(spec: dict, given: str | None, value) -> dict:
    """The shares the generator draws for rows whose `given` is `value`."""
    if given is None:
        return shares(spec)
    cell = next((c["distribution"] for c in spec["cells"]
                 if str(c["when"][given]) == str(value)), spec["otherwise"])
    return shares(leaf(cell))


def _base(p, table: str, column: str, given: str | None = None, value: str = "text") -> str:
    """SELECT mx (mean score ratio), v (the label), g (the given column's value, or NULL)
    per student enrollment or person."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    keys = ["pid", "off"] if table != "person" else ["pid"]
    select = "t." + q("person_id") + " AS pid" + (
        ", a." + q("course_offering_id") + " AS off" if table != "person" else "")
    res = (f"SELECT {select}, {score} / {points} AS x FROM {r.rel('learner_activity_result')} "
           f"AS t JOIN {r.rel('learner_activity')} AS a ON t.{q('learner_activity_id')} = "
           f"a.{q('learner_activity_id')} WHERE {score} IS NOT NULL AND {points} > 0")
    label = r.col(table, column, value, "t") + " AS v, " + (
        r.col(table, given, "text", "t") if given else "NULL") + " AS g"
    if table == "person":
        lab = f"SELECT t.{q('person_id')} AS pid, {label} FROM {r.rel('person')} AS t"
    else:
        role = r.col(table, "role", "text", "t")
        lab = (f"SELECT t.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off, "
               f"{label} FROM {r.rel(table)} AS t JOIN {r.rel('course_section')} AS s ON "
               f"t.{q('course_section_id')} = s.{q('course_section_id')} "
               f"WHERE {role} = 'Student'")
    on = " AND ".join(f"lab.{k} = per.{k}" for k in keys)
    return (f"WITH res AS ({res}), per AS (SELECT {', '.join(keys)}, AVG(x) AS mx FROM res "
            f"GROUP BY {', '.join(keys)}), lab AS ({lab}) "
            f"SELECT per.mx AS mx, lab.v AS v, lab.g AS g, "
            f"{', '.join(f'per.{k} AS {k}' for k in keys)} FROM lab JOIN per ON {on} "
            f"WHERE lab.v IS NOT NULL")


def _value_means(p, table: str, column: str) -> list[tuple]:
    rows = p.reader.rows(f"SELECT v, AVG(mx) AS m, COUNT(*) AS n FROM ({_base(p, table, column)})"
                         f" AS b GROUP BY v")
    return [(row["v"], float(row["m"])) for row in rows if row["n"] >= p.guard.k]


def _cell_spearmans(p, table: str, column: str, order: list,
                    given: str | None) -> list[tuple]:
    """[(given value, Spearman of the mean score and the label's rank in `order`, people)]
    per cell of `given` (one cell without it) holding k people and two labels or more."""
    code = " ".join(f"WHEN '{str(v).replace(chr(39), chr(39) * 2)}' THEN {i}"
                    for i, v in enumerate(order))
    coded = f"SELECT mx, g, CASE v {code} END AS c FROM ({_base(p, table, column, given)}) AS b0"
    rows = p.reader.rows(_spearman_sql(coded, "c", given))
    return [(row["g"], float(row["s"]), int(row["n"])) for row in rows
            if row["s"] is not None and not math.isnan(row["s"]) and row["n"] >= p.guard.k]


def _spearman_sql(base: str, value: str, given: str | None) -> str:
    """Spearman of mx and `value` (average ranks, within g) per g: rows g, s, n."""
    within = "g, " if given else ""
    part = "PARTITION BY g " if given else ""

    def rank(x: str) -> str:
        x = ranked_value(x)
        return (f"RANK() OVER ({part}ORDER BY {x}) + (COUNT(*) OVER (PARTITION BY {within}{x})"
                f" - 1) / 2.0")
    return (f"WITH b AS (SELECT * FROM ({base}) AS b1 WHERE {value} IS NOT NULL AND mx IS NOT "
            f"NULL), r AS (SELECT g, {rank('mx')} AS rx, {rank(value)} AS rc FROM b) "
            f"SELECT g, CORR(rx, rc) AS s, COUNT(*) AS n FROM r GROUP BY g ORDER BY n DESC")
