"""The time shapes and the engagement spread of the event-rate model: the day-in-term
shape, the CIP-family and course-level multipliers, the diurnal shape and the lognormal
engagement σ (the model: distributions/_event_rates.py). Each is aggregate SQL over the CTEs
of distributions/_event_queries.py; small cells are suppressed by the privacy guard.
"""

from __future__ import annotations

import math

import numpy as np

from distributions._event_queries import EventQueries
from distributions._withdrawal_fractions import active_shares


class EventShapes(EventQueries):
    """The event-rate model's shapes over time and courses, and its engagement spread."""

    def _day_in_term(self) -> tuple[list[float] | None, float]:
        """(day_in_term, exposure-weighted mean of it over the covered days)."""
        rows = self._rows("SELECT day, COUNT(*) AS n, COUNT(DISTINCT person) AS people "
                          "FROM ev WHERE stream = 1 GROUP BY day")
        terms = self._rows("SELECT days, term_days AS length, SUM(students) AS students, "
                           "SUM(withdrawn) AS withdrawn FROM osize JOIN term ON osize.term = "
                           "term.term GROUP BY days, term_days")
        if not rows or not terms:
            return None, 1.0
        length = int(max(t["length"] for t in terms))
        covered = int(max(t["days"] for t in terms))
        exposure = self._active_students(terms, covered)
        counts = self.guard.noise("/events/day_in_term", {int(r["day"]): float(r["n"])
                                                          for r in rows})
        people = {int(r["day"]): int(r["people"]) for r in rows}
        rate = {}
        small = []
        for d in range(covered):
            if people.get(d, 0) < self.k or exposure[d] <= 0:
                small.append(d)
            else:
                rate[d] = counts.get(d, 0.0) / exposure[d]
        if len(rate) < 7:
            self.p.notes.append("/events/day_in_term: fewer than 7 days with k people: the "
                                "default's weekday × calendar shape is kept")
            return None, 1.0
        weekly = _weekly(rate)
        if small:
            self.guard.record("/events/day_in_term", "suppressed", f"{len(small)} day(s) with "
                              f"fewer than k={self.k} active people: their weekday's mean is "
                              "published instead", sum(people.get(d, 0) for d in small))
        shape = [rate.get(d, weekly[d % 7]) for d in range(covered)]
        if covered < length:
            self.p.notes.append(f"/events/day_in_term: the events cover {covered} of the "
                                f"{length} days of a term: the later days repeat the covered "
                                "days' weekday pattern")
            shape += [weekly[d % 7] for d in range(covered, length)]
        mean = sum(shape) / len(shape)
        shape = [round(v / mean, 4) for v in shape]
        weight = sum(exposure[d] for d in range(covered))
        day_mean = sum(shape[d] * exposure[d] for d in range(covered)) / weight
        return shape, day_mean

    def _active_students(self, terms: list[dict], covered: int) -> list[float]:
        """Student enrollments with events possible on each covered day: all of each term's
        covering it, less its withdrawn ones gone by then (as the generator ends them:
        _withdrawal_fractions.active_shares), so the day curve is one of active students
        and the generator's withdrawals do not bend it down a second time."""
        exposure = np.zeros(covered)
        for t in terms:
            days = int(t["days"])
            gone = 1.0 - active_shares(self.engagement, days, int(t["length"]))
            exposure[:days] += float(t["students"]) - float(t["withdrawn"]) * gone
        return exposure.tolist()

    def _relative(self, dim: str, path: str) -> dict:
        """Student-event rate of each family (level) relative to the overall rate; a value
        with fewer than k students is dropped (the generator then uses 1.0)."""
        rows = self._rows(
            f"SELECT sz.{dim} AS v, SUM(sz.sdays) AS sdays, "
            f"SUM(COALESCE(c.n, 0)) AS n FROM osize AS sz LEFT JOIN (SELECT offering, COUNT(*) "
            f"AS n FROM ev WHERE stream = 1 GROUP BY offering) AS c ON sz.offering = c.offering"
            f" WHERE sz.students > 0 GROUP BY sz.{dim}")
        people = {row["v"]: int(row["people"]) for row in self._rows(
            f"SELECT off.{dim} AS v, COUNT(DISTINCT enr.person) AS people FROM enr JOIN off "
            f"ON enr.offering = off.offering JOIN cov ON off.term = cov.term "
            f"WHERE enr.stream = 1 GROUP BY off.{dim}")}
        counts = self.guard.noise(path, {row["v"]: float(row["n"]) for row in rows})
        total_n = sum(counts.values())
        total_days = sum(float(row["sdays"]) for row in rows)
        if not total_n or not total_days:
            return {}
        overall = total_n / total_days
        out, small = {}, []
        for row in sorted(rows, key=lambda r: -float(r["sdays"])):
            if row["v"] is None or not row["sdays"]:
                continue
            if people.get(row["v"], 0) < self.k:
                small.append(row["v"])
                continue
            out[str(row["v"])] = round(counts[row["v"]] / float(row["sdays"]) / overall, 4)
        if small:
            self.guard.record(path, "suppressed", f"{len(small)} value(s) with fewer than "
                              f"k={self.k} students (the generator uses 1.0)",
                              sum(people.get(v, 0) for v in small))
        return out

    def _diurnal(self) -> list[float] | None:
        hour = f"MOD(CAST(FLOOR(ts / 3600) AS {self._int}), 24)"
        rows = self._rows(f"SELECT {hour} AS h, COUNT(*) AS n, COUNT(DISTINCT person) AS people"
                          " FROM ev WHERE stream > 0 GROUP BY 1")
        counts = self.guard.noise("/events/diurnal", {int(r["h"]): float(r["n"]) for r in rows})
        people = {int(r["h"]): int(r["people"]) for r in rows}
        small = [h for h in range(24) if 0 < people.get(h, 0) < self.k]
        if small:
            self.guard.record("/events/diurnal", "suppressed", f"{len(small)} hour(s) with "
                              f"fewer than k={self.k} people (weight 0)",
                              sum(people[h] for h in small))
        values = [counts.get(h, 0.0) if people.get(h, 0) >= self.k else 0.0 for h in range(24)]
        total = sum(values)
        if total <= 0:
            return None
        return [round(24 * v / total, 4) for v in values]

    def per_enrollment(self, select: str) -> list[dict]:
        """Rows of `select` after a CTE `counts` (offering, person, x): the events of each
        student enrollment not withdrawn, zeros included, over the days the events cover."""
        status = ""
        if self.r.has("course_section_enrollment", "role_status"):
            rs = self.r.col("course_section_enrollment", "role_status", "text", "x")
            status = (f" AND NOT EXISTS (SELECT 1 FROM {self.r.rel('course_section_enrollment')}"
                      f" AS x JOIN {self.r.rel('course_section')} AS s ON x.course_section_id ="
                      f" s.course_section_id WHERE x.person_id = enr.person AND "
                      f"s.course_offering_id = enr.offering AND {rs} IN ('Withdrawn', "
                      "'Dropped'))")
        return self._rows(f"""
, counts AS (
  SELECT enr.offering, enr.person, COALESCE(c.n, 0) AS x FROM enr LEFT JOIN (
    SELECT offering, person, COUNT(*) AS n FROM ev WHERE stream = 1 GROUP BY offering, person
  ) AS c ON enr.offering = c.offering AND enr.person = c.person
  JOIN off ON enr.offering = off.offering JOIN cov ON off.term = cov.term
  WHERE enr.stream = 1{status}),
{select}""")

    def _sigma(self) -> float | None:
        """σ of the lognormal engagement from within-offering spread of per-enrollment student
        counts: Var = μ + μ²(e^σ² − 1) for a Poisson-lognormal with mean μ."""
        if self.guard.epsilon is not None:  # no bounded estimate survives the noise
            self.p.notes.append("/events/engagement_sigma: kept the default under epsilon "
                                "(see distributions/_noisy_activity.py)")
            return None
        row = self.per_enrollment("""
per AS (
  SELECT offering, COUNT(*) AS n, AVG(x) AS m, VAR_SAMP(x) AS v FROM counts
  GROUP BY offering HAVING COUNT(*) >= 2)
SELECT SUM((n - 1) * (v - m)) AS excess, SUM((n - 1) * (m * m - v / n)) AS scale,
       SUM(n) AS people FROM per""")[0]
        if not row["people"] or row["people"] < 2 * self.k or not row["scale"]:
            self.p.notes.append("/events/engagement_sigma: kept the default (too few students)")
            return None
        ratio = max(float(row["excess"]) / float(row["scale"]), 0.0)
        return round(min(max(math.sqrt(math.log1p(ratio)), 0.0), 3.0), 4)


def _weekly(rate: dict[int, float]) -> list[float]:
    """Mean rate per day of the week (day index mod 7), past the first week when possible."""
    out = []
    for w in range(7):
        later = [v for d, v in rate.items() if d % 7 == w and d >= 7]
        some = later or [v for d, v in rate.items() if d % 7 == w] or list(rate.values())
        out.append(sum(some) / len(some))
    return out
