"""Counter-based random streams: every draw is a pure function of (seed, stream, row index).

Rows are generated in blocks, but no value depends on where a block starts or which worker
computes it: a value is a hash of its stream key and its row index (splitmix64 finaliser),
so any column of any table can be recomputed at any rows, in any order, on any worker.
This is what lets a child table recompute the parent attributes it needs instead of joining.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def stream_key(seed: int, *parts: object) -> int:
    """A 64-bit key naming one random stream, e.g. (seed, "person", "sex")."""
    text = "\x1f".join([str(int(seed)), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def bits(key: int, rows: np.ndarray) -> np.ndarray:
    """64 random bits per row of `rows`, for the stream `key`."""
    counters = np.asarray(rows, dtype=np.uint64) * _GOLDEN
    with np.errstate(over="ignore"):
        return _mix(counters ^ _mix(np.full(1, key, dtype=np.uint64)))


def uniform(key: int, rows: np.ndarray) -> np.ndarray:
    """Uniform doubles in the open interval (0, 1), one per row."""
    return ((bits(key, rows) >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT


_NORMAL_GRID = 1 << 16
_NORMAL_TAIL = 64  # grid cells at each end where the inverse CDF bends too fast to interpolate
_INVERSE_NORMAL = special.ndtri(np.linspace(0.0, 1.0, _NORMAL_GRID + 1))


def normal(key: int, rows: np.ndarray) -> np.ndarray:
    """Standard normal draws, one per row: the inverse normal CDF of a uniform, read from a
    table (error < 1e-5) and computed exactly in the far tails."""
    u = uniform(key, rows)
    position = u * _NORMAL_GRID
    cell = position.astype(np.int64)
    low, high = _INVERSE_NORMAL[cell], _INVERSE_NORMAL[cell + 1]
    with np.errstate(invalid="ignore"):
        z = low + (position - cell) * (high - low)
    tails = (cell < _NORMAL_TAIL) | (cell >= _NORMAL_GRID - _NORMAL_TAIL)
    z[tails] = special.ndtri(u[tails])
    return z


def integers(key: int, rows: np.ndarray, high: np.ndarray | int) -> np.ndarray:
    """Integers in [0, high) per row; `high` may vary by row."""
    return np.minimum((uniform(key, rows) * high).astype(np.int64), np.asarray(high) - 1)
