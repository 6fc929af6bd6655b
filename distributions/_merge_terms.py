"""A consortium's terms and participation: each institution's terms are its own rows, so they
add up, side by side on one calendar.

The union of two institutions' tables holds both institutions' term rows (two Fall 2024
rows when both taught that autumn), each with that institution's offerings and students. So
the merged calendar lists every institution's terms in turn (`calendar.terms`, at their own
dates, each with its offerings per FTE of the merged run and, where the institution learned
them, its activities per offering and due fractions; and its institution's withdrawal,
distributions/_merge_shapes.py: institution_withdrawal), and the merged participation
places each institution's students in that institution's terms: entry terms are shifted by
the terms listed before the institution's, and terms per student, spans and entry terms are
pooled by the students behind them (a mixture: each institution's shares weighed by its
students, each cell by its students with that given value).
"""

from __future__ import annotations

from distributions._merge_shapes import institution_withdrawal
from distributions._mixture import mean_of
from distributions._term_list import TERM_OVERRIDES, term_list

_STRUCTURE = ("terms_per_student", "term_span", "entry_term", "offerings_per_fte",
              "offerings_per_fte_by_term_type")


def institution_terms(merge) -> list[list[dict]]:
    """Each institution's own terms (its calendar's, as many as its profile's `terms`)."""
    return [term_list(p["calendar"], int(p["settings"].get("terms") or 1))
            for p in merge.profiles]


def merged_calendar(merge, fte: float) -> dict:
    """The largest institution's calendar, every institution's term types, and the list of
    every institution's terms in turn, each with its offerings per FTE of the merged run
    (`fte` per term)."""
    largest = merge.profiles[merge.largest]["calendar"]
    types = dict(largest["term_types"])
    for profile in merge.profiles:
        for name, spec in profile["calendar"]["term_types"].items():
            types.setdefault(name, spec)
    listed = []
    for profile, terms in zip(merge.profiles, institution_terms(merge), strict=True):
        for term in terms:
            entry = {"term_type": term["term_type"], "year": term["year"]}
            entry.update({k: term["spec"][k] for k in TERM_OVERRIDES if k in term["spec"]
                          and term["spec"][k] != types[term["term_type"]].get(k)})
            per_fte = _offerings_per_fte(profile, term)
            if per_fte:
                entry["offerings_per_fte"] = round(
                    per_fte * float(profile["settings"].get("fte") or 1.0) / fte, 6)
            # what the term held at its institution: its own activities and due dates, and
            # its withdrawal (a merged input's terms keep theirs)
            entry.update({k: term[k] for k in ("activities", "due_date", "name") if k in term})
            entry["withdrawal"] = term.get("withdrawal") or institution_withdrawal(profile)
            listed.append(entry)
    merge.notes.append("/calendar/terms/*/withdrawal: each term keeps its institution's own "
                       "withdrawal (withdrawn and unsubmitted shares, withdrawal_rho, "
                       "withdrawal_at, results_kept: values its profile published, so nothing "
                       "new is released); the pooled /engagement values serve later terms")
    first = {"term_type": listed[0]["term_type"], "year": listed[0]["year"]}
    return {**largest, "first_term": first, "term_types": types, "terms": listed}


def _offerings_per_fte(profile: dict, term: dict) -> float | None:
    """An institution's offerings per FTE in one of its terms: the term's own (a merged
    profile's), else by its type, else its mean; None when it learned none."""
    structure = profile.get("structure", {})
    return term.get("offerings_per_fte") or structure.get(
        "offerings_per_fte_by_term_type", {}).get(term["term_type"]) or \
        structure.get("offerings_per_fte")


def merged_structure(merge, calendar: dict, fte: float) -> dict:
    """Participation over the listed terms, and offerings per FTE over them (the mean and by
    term type) for terms beyond the list."""
    counts = [len(t) for t in institution_terms(merge)]
    offsets = [sum(counts[:i]) for i in range(len(counts))]
    parts = [_participation(p, n, offset) for p, n, offset in
             zip(merge.profiles, counts, offsets, strict=True)]
    students = [_students(p, part, n) for p, part, n in
                zip(merge.profiles, parts, counts, strict=True)]
    out = {key: value for key, value in merge.profiles[merge.largest].get(
        "structure", {}).items() if key not in _STRUCTURE}
    per_count = [(part["terms_per_student"], s) for part, s in zip(parts, students, strict=True)]
    out["terms_per_student"] = _pool(per_count)
    spans = [(part["term_span"], part["terms_per_student"], s)
             for part, s in zip(parts, students, strict=True)]
    out["term_span"] = _pool_given(spans, "terms_per_student")
    entries = [(part["entry_term"], _marginal(part["term_span"], part["terms_per_student"]), s)
               for part, s in zip(parts, students, strict=True)]
    out["entry_term"] = _pool_given(entries, "term_span")
    out.update(_offerings(calendar["terms"], fte))
    return out


def _offerings(listed: list[dict], fte: float) -> dict:
    """The mean offerings per FTE over the listed terms, and by term type."""
    sized = [t for t in listed if "offerings_per_fte" in t]
    if not sized:
        return {}
    by_type: dict[str, list[float]] = {}
    for term in sized:
        by_type.setdefault(term["term_type"], []).append(term["offerings_per_fte"])
    return {"offerings_per_fte": round(sum(t["offerings_per_fte"] for t in sized)
                                       / len(sized), 6),
            "offerings_per_fte_by_term_type": {
                name: round(sum(v) / len(v), 6) for name, v in sorted(by_type.items())}}


def _participation(profile: dict, terms: int, offset: int) -> dict:
    """An institution's terms per student, spans given the count and entry terms given the
    span, as categorical parts (what the generator does without one: every student in
    every term, one after another), its entry terms shifted to its place in the list."""
    structure = profile.get("structure", {})
    count = structure.get("terms_per_student") or _categorical({terms: 1.0})
    values = sorted(_shares(count)) or [terms]
    span = structure.get("term_span") or _conditional(
        "terms_per_student", {c: _categorical({max(int(c) - 1, 0): 1.0}) for c in values},
        _categorical({0: 1.0}))
    spans = sorted(_marginal(span, count)) or [0]
    entry = structure.get("entry_term") or _conditional(
        "term_span", {s: _categorical({e: 1.0 for e in range(max(terms - int(s), 1))})
                      for s in spans}, _categorical({e: 1.0 for e in range(terms)}))
    return {"terms_per_student": count, "term_span": span, "entry_term": _shift(entry, offset)}


def _students(profile: dict, part: dict, terms: int) -> float:
    """An institution's distinct students: its student-terms (FTE per term × terms over the
    FTE of a student) over the mean terms a student attends."""
    fte = float(profile["settings"].get("fte") or 1.0)
    per_student = _fte_per_student(profile)
    mean_terms = min(max(mean_of(part["terms_per_student"]), 1.0), float(terms))
    return fte * terms / max(per_student, 1e-9) / mean_terms


def _fte_per_student(profile: dict) -> float:
    """The FTE a student of the institution stands for (its academic-load mix)."""
    loads = profile["tables"]["person__academic_term"]["columns"]["eot_academic_load"]
    loads = loads.get("otherwise", loads) if loads["kind"] == "conditional" else loads
    fte_by_load = profile["institution"]["fte_by_load"]
    total = sum(i["p"] for i in loads.get("values", [])) or 1.0
    return sum(i["p"] / total * fte_by_load.get(i["value"], 0.5)
               for i in loads.get("values", [])) or 1.0


# ---- small categorical distributions of whole numbers ------------------------------------
def _categorical(shares: dict) -> dict:
    total = sum(shares.values()) or 1.0
    ordered = sorted(shares.items(), key=lambda item: (-item[1], int(item[0])))
    return {"kind": "categorical",
            "values": [{"value": int(v), "p": round(p / total, 6)} for v, p in ordered if p > 0]}


def _conditional(given: str, cells: dict, otherwise: dict) -> dict:
    return {"kind": "conditional", "given": [given],
            "cells": [{"when": {given: int(v)}, "distribution": d} for v, d in cells.items()],
            "otherwise": otherwise}


def _shares(spec: dict) -> dict[int, float]:
    """A whole-number distribution's shares (a conditional's `otherwise`'s; {} for a
    continuous one, which has no cells to weigh)."""
    if spec["kind"] == "conditional":
        return _shares(spec["otherwise"])
    if spec["kind"] != "categorical":
        return {}
    total = sum(i["p"] for i in spec["values"]) or 1.0
    out: dict[int, float] = {}
    for item in spec["values"]:
        out[int(item["value"])] = out.get(int(item["value"]), 0.0) + item["p"] / total
    return out


def _marginal(spec: dict, given: dict) -> dict[int, float]:
    """Shares of a distribution conditioned on `given`'s values, over `given`'s shares."""
    if spec["kind"] != "conditional":
        return _shares(spec)
    cells = {int(next(iter(c["when"].values()))): c["distribution"] for c in spec["cells"]}
    out: dict[int, float] = {}
    for value, share in (_shares(given) or {0: 1.0}).items():
        for v, p in _shares(cells.get(value, spec["otherwise"])).items():
            out[v] = out.get(v, 0.0) + share * p
    return out


def _shift(spec: dict, offset: int) -> dict:
    """Entry terms moved `offset` terms on (an institution's place in the listed terms)."""
    if spec["kind"] == "conditional":
        return {**spec, "cells": [{**c, "distribution": _shift(c["distribution"], offset)}
                                  for c in spec["cells"]],
                "otherwise": _shift(spec["otherwise"], offset)}
    if spec["kind"] == "categorical":
        return {**spec, "values": [{**i, "value": int(i["value"]) + offset}
                                   for i in spec["values"]]}
    return spec  # a continuous entry position: kept (the profiler writes categoricals)


def _pool(parts: list[tuple[dict, float]]) -> dict:
    """The mixture of whole-number distributions, each weighed by the people behind it."""
    pooled: dict[int, float] = {}
    for spec, weight in parts:
        for value, share in _shares(spec).items():
            pooled[value] = pooled.get(value, 0.0) + weight * share
    return _categorical(pooled) if pooled else parts[0][0]


def _pool_given(parts: list[tuple[dict, object, float]], given: str) -> dict:
    """A conditional pooled cell by cell: each institution's cell weighed by its people with
    that given value (`marginal`: the given's distribution there, or its shares)."""
    cells: dict[int, list] = {}
    for spec, marginal, weight in parts:
        shares = _shares(marginal) if "kind" in marginal else marginal
        own = {int(next(iter(c["when"].values()))): c["distribution"]
               for c in spec.get("cells", [])} if spec["kind"] == "conditional" else {}
        fallback = spec["otherwise"] if spec["kind"] == "conditional" else spec
        for value, share in shares.items():
            cells.setdefault(value, []).append((own.get(value, fallback), weight * share))
    otherwise = _pool([(s["otherwise"] if s["kind"] == "conditional" else s, w)
                       for s, _, w in parts])
    return _conditional(given, {v: _pool(p) for v, p in sorted(cells.items())}, otherwise)
