"""The course mix by term: which kinds of course a source's terms offer.

A source's catalogue is not the same every term: a programme starts in a later year, a module
runs in one half of the year only. Drawn from pooled shares, every generated term offers the
same mix (the real-like source: term year × CIP family Cramér's V 0.48, generated 0.08, and
the dates of work by subject followed, 0.50 against 0.38).

Each categorical column of `course_offering` that the profile draws on its own (a CIP family,
a level: not a catalog name, which follows its own anchor, nor a column already given
another) is scored by its mutual information, less the Miller–Madow bias, with each text
attribute of the offering's term (its name, its type). The best conditions the column if it
clears MIN_GAIN and, as a source has a few dozen offerings where a person-level table has
thousands of rows, if a G-test of independence rejects chance at ALPHA (the real-like
source's 20 offerings: family given the term's name p 0.017, learned; level p 0.094 and
status p 0.40, not — learned, they made up a level × status association of V 0.33 that the
source does not have): one cell per term value, shares counted in offerings, a value
published only when at least k distinct people are enrolled behind it (as a catalog name is:
`_catalog_columns`), the column's pooled shares as `otherwise` (a generated term the source
does not have). Columns drawn given it (a subject given its family) follow.

Under ε the choice would be made on exact counts: the mix is not learned there (a note).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from distributions._catalog_columns import catalog_categorical, catalog_cells
from distributions._dependencies import MIN_GAIN, conditional_information, registry_nodes

TABLE = "course_offering"
# text attributes of the offering's term a column may be drawn given (as the generator reads
# them: the calendar's term names and types)
TERM_ATTRIBUTES = ("academic_term_id.name", "academic_term_id.term_type")
ALPHA = 0.05  # the G-test's level: a mix by term beyond chance at this many offerings


def term_mix_part(p, profile: dict) -> None:
    """Condition each of course_offering's own categorical columns on the term attribute
    that tells most about it (notes say which won, and by how much)."""
    spec = profile["tables"].get(TABLE)
    if spec is None or TABLE not in p.reader.tables or "academic_term" not in p.reader.tables:
        return
    entity = p.entities[TABLE]
    targets = [c for c in registry_nodes(p, TABLE, spec)
               if spec["columns"][c]["kind"] == "categorical" and not entity.column(c).learnable]
    candidates = [a for a in TERM_ATTRIBUTES if p.reader.has("academic_term", a.split(".")[1])]
    if not targets or not candidates:
        return
    if p.guard.epsilon is not None:
        p.notes.append(f"/tables/{TABLE}: the course mix by term is not learned under epsilon "
                       f"(its choice of term attribute would read exact counts)")
        return
    for column in targets:
        _learn(p, spec, column, candidates)


def _learn(p, spec: dict, column: str, candidates: list[str]) -> None:
    path = f"/tables/{TABLE}/columns/{column}"
    scored = []
    for given in candidates:
        counts = catalog_cells(p, TABLE, column, [given])
        flat = {(g[0], v): c for g, per in counts.items() for v, c in per.items()}
        scored.append((round(conditional_information(flat, 0), 4), given, counts))
    gain, given, counts = max(scored, key=lambda s: s[:2])
    summary = ", ".join(f"{g} {s:.4f}" for s, g, _ in sorted(scored, reverse=True))
    chance = independence_p(counts)
    if gain < MIN_GAIN or chance >= ALPHA:
        p.notes.append(f"{path}: the same mix every term (MI with the term less its bias, "
                       f"nats: {summary}; G-test p {chance:.3f} given {given})")
        return
    cells = {g: catalog_categorical(p, f"{path}/cells[{g[0]}]", c) for g, c in counts.items()}
    learned = p._conditional(path, {"given": [given]}, cells, spec["columns"][column],
                             {g: sum(c.values()) for g, c in counts.items()})
    if learned is None or not learned["cells"]:
        return
    spec["columns"][column] = learned
    p.notes.append(f"{path}: learned given [{given}] (the course mix by term; MI less its "
                   f"bias, nats: {summary}; G-test p {chance:.3f})")


def independence_p(counts: dict) -> float:
    """The G-test's p-value of independence of a column and a grouping attribute, from
    {(group value,): {value: count or Cell}} (1.0 for a single row or column; rows and
    columns without a count are left out, as the test cannot take them)."""
    rows = sorted((g for g in counts if None not in g), key=str)
    values = sorted({v for g in rows for v in counts[g] if v is not None}, key=str)
    table = np.array([[float(counts[g].get(v, 0)) for v in values] for g in rows])
    if len(rows) < 2 or len(values) < 2:
        return 1.0
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")[1])
