"""The run's terms, in order, from a profile's calendar: the terms it lists (`calendar.terms`,
a consortium's institutions' own terms side by side), then the chain of its term types (each
type's `next`, the year moving on where a type says so). Shared by the generator and the
merge, so both count the same terms. Plain Python (generation loads it without the
profiler)."""

from __future__ import annotations

# the most terms a run or a profile holds: a consortium lists every member's terms side by
# side (eleven four-term members are 44); rows grow linearly with terms (a run of 100 terms
# costs what 50 runs of two do, pipeline/cli/_settings.py), and the calendar's years stay
# within the profile's 1900-2999 at two terms a year
MAX_TERMS = 400
# fields of a listed term that override its term type's (an institution of a consortium whose
# autumn begins a week later, or runs 15 weeks)
TERM_OVERRIDES = ("begins_on_or_after", "weeks", "days", "starts_monday", "breaks",
                  "exams")
# what a listed term holds, learned from that term alone (distributions/_term_work.py), and
# a consortium's term's institution's own withdrawal (distributions/_merge_shapes.py)
TERM_CONTENTS = ("offerings_per_fte", "activities", "due_date", "withdrawal")


def term_list(calendar: dict, n_terms: int) -> list[dict]:
    """The first `n_terms` terms: each {term_type, year, spec} (`spec`: its term type's, with
    the listed term's own fields over it), plus a listed term's TERM_CONTENTS and its name
    where the source had one."""
    listed = calendar.get("terms") or []
    terms = [_listed(calendar, entry) for entry in listed[:n_terms]]
    if len(terms) < n_terms:
        last = listed[-1] if listed else None
        term_type = calendar["first_term"]["term_type"] if last is None else \
            calendar["term_types"][last["term_type"]]["next"]
        year = int(calendar["first_term"]["year"] if last is None else last["year"])
        if last is not None and calendar["term_types"][term_type]["year_offset"]:
            year += 1
        for _ in range(n_terms - len(terms)):
            spec = calendar["term_types"][term_type]
            terms.append({"term_type": term_type, "year": year, "spec": spec})
            term_type = spec["next"]
            year += int(calendar["term_types"][term_type]["year_offset"])
    return terms


def _listed(calendar: dict, entry: dict) -> dict:
    spec = {**calendar["term_types"][entry["term_type"]],
            **{k: entry[k] for k in TERM_OVERRIDES if k in entry}}
    out = {"term_type": entry["term_type"], "year": int(entry["year"]), "spec": spec}
    out.update({k: entry[k] for k in TERM_CONTENTS if k in entry})
    if entry.get("name"):
        out["name"] = entry["name"]
    return out
