"""A course's make-up follows its catalog entry: how many children a course-structure row has
(a course's assignment groups) given the parent's text column that tells most about it (its
subject, title or level).

In a converted dataset two modules of seven set four computer-marked assignments beside
their tutor-marked ones and the exam (8 to 10 groups), the others 4 to 6. Drawn on their
own, a generated course's group count and its groups' names paired any module with any
make-up: CMAs in six modules of seven, Cramér's V of module and group name 0.115 where the
source has 0.398 (0.384 this way). Here `tables.<child>.rows.per_parent` of a person-less
child of a course-structure parent becomes a conditional given the parent's text column
with most information about the count, where a Kruskal-Wallis test says the counts differ
between its values (each value its own counts, the pooled counts `otherwise`). The kinds of
a course's groups follow such a column too (`_institutional_extras`, with a G-test), dealt
so that each course's groups spread over its cell's strata by the generator.

Rows of institutional tables are not people: counts by row, no cell suppressed for being few.
But a parent column qualifies only where its values hold MIN_PARENTS parents each on average
(a module taught in several terms): given a title that names one course, a generated course
copied that one course's sections ("001" for each of two sections: section_number TVD 0.14
on hand-built sources).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kruskal

from distributions._dependencies import best_given, registry_nodes
from distributions._estimators import Missing, children_histogram
from distributions._structure import COURSE_PARENTS, child_keys, has_people, institutional
from distributions._term_mix import independence_p

MIN_PARENTS = 3  # parent rows per value of a column that a course's make-up is learned given


def broad_columns(p, parent: str, columns: list[str]) -> list[str]:
    """The `columns` of `parent` (or `fk.column` names of it) whose values hold MIN_PARENTS
    parent rows each on average."""
    r = p.reader
    out = []
    for name in columns:
        column = name.split(".", 1)[-1]
        row = r.rows(f"SELECT COUNT(*) AS n, COUNT(DISTINCT {r.col(parent, column, 'text', 'q')}"
                     f") AS v FROM {r.rel(parent)} AS q")[0]
        if row["v"] and row["n"] >= MIN_PARENTS * row["v"]:
            out.append(name)
    return out


SIGNIFICANCE = 0.001  # the G-test's p-value a kind's dependency on the column must reach
COUNT_SIGNIFICANCE = 0.05  # Kruskal-Wallis p-value for counts (ordered, fewer cells)


def significant(counts: dict) -> bool:
    """Whether {(value,): {child value: count}} shows a dependency beyond chance (a G-test
    of independence, `_term_mix.independence_p`): among 16 courses of 4 subjects a spurious
    tie cleared the bias-corrected information and conditioned section counts on subject."""
    return independence_p(counts) < SIGNIFICANCE


def significant_counts(counts: dict) -> bool:
    """Whether counts {(value,): {count: parents}} differ between values beyond chance (a
    Kruskal-Wallis test: counts are ordered, and 24 courses of 7 modules leave a G-test
    over every (module, count) cell too few rows to tell 9 groups from 5)."""
    samples = [np.repeat([float(v) for v in per],
                         np.maximum(np.rint([float(n) for n in per.values()]), 0).astype(int))
               for g, per in sorted(counts.items(), key=str) if None not in g and per]
    pooled = np.concatenate(samples) if samples else np.array([])
    if len(samples) < 2 or len(np.unique(pooled)) < 2:
        return False
    return bool(kruskal(*samples).pvalue < COUNT_SIGNIFICANCE)


def course_shape_part(p, profile: dict) -> None:
    """Condition the children-per-parent counts of person-less course tables on a parent
    column; a table whose counts no parent column informs keeps its own."""
    for table, spec in sorted(profile["tables"].items()):
        entity = p.entities.get(table)
        rows = spec.get("rows", {})
        if entity is None or entity.layout.kind != "children" or entity.layout.count_rule \
                or entity.layout.parent not in COURSE_PARENTS or has_people(p, table) \
                or rows.get("per_parent", {}).get("kind") == "conditional" \
                or "per_parent" not in rows or table not in p.reader.tables:
            continue
        try:
            _condition_counts(p, profile, table, entity.layout.parent)
        except Missing as missing:
            p.notes.append(f"/tables/{table}/rows/per_parent: not conditioned ({missing})")


def _condition_counts(p, profile: dict, table: str, parent: str) -> None:
    if parent not in p.reader.tables or parent not in profile["tables"]:
        return
    keys = child_keys(p, table, parent)
    candidates = broad_columns(p, parent, registry_nodes(p, parent, profile["tables"][parent]))
    best = best_given(candidates, lambda given: children_histogram(
        p.reader, parent, p.reader.rel(table), keys, p.reader.col(parent, given, "text", "p")))
    if best is None or not significant_counts(best[2]):
        return
    given, gain, counts = best
    path = f"/tables/{table}/rows/per_parent"
    rows = profile["tables"][table]["rows"]
    template = {"integer": True}
    cells = {g: p._count_distribution(f"{path}/cells[{g[0]}]", institutional(p, parent, c),
                                      template)
             for g, c in counts.items() if g[0] is not None}
    sizes = {g: sum(institutional(p, parent, c).values()) for g, c in counts.items()}
    spec = p._conditional(path, {"given": [given]}, cells, rows["per_parent"], sizes)
    if spec is None or not spec["cells"]:
        return
    rows["per_parent"] = spec
    p.notes.append(f"{path}: learned given [{given}] (MI {gain:.4f} nats, the {parent} column "
                   "it shares most with; institutional rows): each value its own counts")
