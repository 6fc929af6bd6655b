"""When in its term a withdrawn student stops, drawn from `engagement.withdrawal_at` (learned
by distributions/_withdrawal_dates.py): shared by the generator and the calibration's
simulation of it, so both place withdrawals alike. Plain numpy (generation loads it without
the profiler)."""

from __future__ import annotations

import numpy as np


def withdrawal_fractions(engagement: dict, u: np.ndarray) -> np.ndarray:
    """Uniforms `u` ↦ fractions of the term at which the withdrawn stop: the learned
    quantiles' piecewise-linear inverse CDF (flat beyond the outer ones), or uniform in
    10–70 % of the term without them."""
    learned = engagement.get("withdrawal_at")
    if not learned:
        return 0.1 + 0.6 * u
    points = sorted((float(q), float(v)) for q, v in learned.items())
    probs = [0.0, *(q for q, _ in points), 1.0]
    values = [points[0][1], *(v for _, v in points), points[-1][1]]
    return np.interp(u, probs, values)


def mean_withdrawal_fraction(engagement: dict) -> float:
    """The mean fraction of the term at which the withdrawn stop (the work after it is
    1 − this, for work due uniformly over the term)."""
    return float(withdrawal_fractions(engagement, (np.arange(1000) + 0.5) / 1000).mean())


def active_shares(engagement: dict, days: int, term_days: int) -> np.ndarray:
    """For each of the first `days` days of a term of `term_days`, the share of withdrawn
    student enrollments still active: the generator ends their events on the day of the
    withdrawal it draws here (before day floor(fraction × (term_days − 1)),
    pipeline/generate/_events/streams.py), so an event rate learned per student-day counts
    only the days it would generate (distributions/_event_queries.py)."""
    last = np.floor(withdrawal_fractions(engagement, (np.arange(1000) + 0.5) / 1000)
                    * max(term_days - 1, 1))
    return (last[None, :] > np.arange(days)[:, None]).mean(axis=1)
