"""Labels tied to scores: the institution's outcome labels and bands (an enrollment's final
result, a person's deprivation band) drawn on the latent engagement that drives scores.

For each categorical extra column of `course_section_enrollment` or `person`, aggregate SQL
gives each value's mean score ratio (over the student enrollments, or the people, holding it)
and the Spearman correlation between the mean score and the value's rank in that order. Where
that correlation is not negligible, the profile's `engagement.ties` stores the order (lowest
mean score first) and the copula correlation that reproduces it, solved on the gradebook
simulation of `_engagement.py`. The generator then draws the column on Φ(ρ·latent + noise)
with its values in that order; its shares stay the profile's.
"""

from __future__ import annotations

import math

from distributions._engagement import Simulation
from distributions._estimators import Missing
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
    # an enrollment's label: its own latent and results; a person's: the student part of the
    # latent, whose share in a person's mean over all enrollments grows with their number
    sims = {"course_section_enrollment": (Simulation(results, transform), 1.0),
            "person": (Simulation(results * per_person, transform),
                       share / (share + (1 - share) / per_person))}
    ties = {}
    for table in TABLES:
        for column, extra in profile["tables"].get(table, {}).get("extras", {}).items():
            spec = profile["tables"][table]["columns"].get(column, {})
            if extra.get("type") != "string" or spec.get("kind") != "categorical":
                continue
            try:
                tie = _tie(p, table, column, spec, *sims[table], score_rho)
            except (Missing, SourceError) as error:
                p.notes.append(f"/engagement/ties: {table}.{column} not scored ({error})")
                continue
            if tie is not None:
                ties[f"{table}.{column}"] = tie
    if ties:
        profile["engagement"]["ties"] = ties


def _enrollments_per_student(p) -> float:
    r = p.reader
    role = r.col("course_section_enrollment", "role", "text", "t")
    value = r.scalar(f"SELECT COUNT(*) * 1.0 / COUNT(DISTINCT t.{r.sql.ident('person_id')}) "
                     f"FROM {r.rel('course_section_enrollment')} AS t WHERE {role} = 'Student'")
    return max(float(value or 1.0), 1.0)


def _tie(p, table: str, column: str, spec: dict, sim, level: float, score_rho: float):
    shares = {i["value"]: i["p"] for i in spec["values"] if i["value"] is not None}
    means = {v: m for v, m in _value_means(p, table, column) if v in shares}
    if len(means) < 2:
        return None
    order = sorted(means, key=lambda v: (means[v], str(v)))
    target = _spearman(p, table, column, order)
    if target is None or abs(target) < _MIN_SPEARMAN:
        return None
    rho = sim.label_rho(target, [shares[v] for v in order], score_rho, level)
    p.notes.append(f"/engagement/ties/{table}.{column}: drawn on engagement, rho "
                   f"{rho:.3f} (source Spearman with the mean score {target:.3f}; order "
                   f"{', '.join(map(str, order))})")
    return {"rho": round(rho, 4), "order": order}


def _base(p, table: str, column: str) -> str:
    """SELECT mx (mean score ratio), v (the label) per student enrollment or person."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    keys = ["pid", "off"] if table != "person" else ["pid"]
    select = "t." + q("person_id") + " AS pid" + (
        ", a." + q("course_offering_id") + " AS off" if table != "person" else "")
    res = (f"SELECT {select}, {score} / {points} AS x FROM {r.rel('learner_activity_result')} "
           f"AS t JOIN {r.rel('learner_activity')} AS a ON t.{q('learner_activity_id')} = "
           f"a.{q('learner_activity_id')} WHERE {score} IS NOT NULL AND {points} > 0")
    label = r.col(table, column, "text", "t")
    if table == "person":
        lab = f"SELECT t.{q('person_id')} AS pid, {label} AS v FROM {r.rel('person')} AS t"
    else:
        role = r.col(table, "role", "text", "t")
        lab = (f"SELECT t.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off, "
               f"{label} AS v FROM {r.rel(table)} AS t JOIN {r.rel('course_section')} AS s ON "
               f"t.{q('course_section_id')} = s.{q('course_section_id')} "
               f"WHERE {role} = 'Student'")
    on = " AND ".join(f"lab.{k} = per.{k}" for k in keys)
    return (f"WITH res AS ({res}), per AS (SELECT {', '.join(keys)}, AVG(x) AS mx FROM res "
            f"GROUP BY {', '.join(keys)}), lab AS ({lab}) "
            f"SELECT per.mx AS mx, lab.v AS v FROM lab JOIN per ON {on} WHERE lab.v IS NOT NULL")


def _value_means(p, table: str, column: str) -> list[tuple]:
    rows = p.reader.rows(f"SELECT v, AVG(mx) AS m, COUNT(*) AS n FROM ({_base(p, table, column)})"
                         f" AS b GROUP BY v")
    return [(row["v"], float(row["m"])) for row in rows if row["n"] >= p.guard.k]


def _spearman(p, table: str, column: str, order: list) -> float | None:
    code = " ".join(f"WHEN '{str(v).replace(chr(39), chr(39) * 2)}' THEN {i}"
                    for i, v in enumerate(order))
    sql = (f"WITH b AS (SELECT mx, CASE v {code} END AS c FROM ({_base(p, table, column)}) AS b0)"
           f", r AS (SELECT RANK() OVER (ORDER BY mx) + (COUNT(*) OVER (PARTITION BY mx) - 1)"
           f" / 2.0 AS rx, RANK() OVER (ORDER BY c) + (COUNT(*) OVER (PARTITION BY c) - 1)"
           f" / 2.0 AS rc FROM b WHERE c IS NOT NULL) SELECT CORR(rx, rc) AS s FROM r")
    value = p.reader.scalar(sql)
    return None if value is None or math.isnan(value) else float(value)
