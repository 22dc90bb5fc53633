"""The per-example epsilon search of unlearning.forgetting_score as a compiled loop (numba).

Why compiled: the score's interval rescores >= 1 000 bootstrap resamples of the chains per model. The vectorised
torch search builds [examples, 2N, 2N] tensors of every interval of pooled values and took 0.04-0.08 s per score
at N = 32 (E = 360); a loop can instead walk only the intervals the window admits (their top within the window of
the peaky sample's max, their bottom within the window of its min: contiguous index ranges of the sorted values)
and skip the rest, about 1 ms per score. Same rule families, same decisions, same table of epsilons: the tests
check it against explicit loops over every test. Only comparisons, counts and table look-ups: bit-identical on
every CPU.
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=False, nogil=True)
def _median(sorted_values: np.ndarray) -> float:
    n = len(sorted_values)
    return sorted_values[n // 2] if n % 2 else 0.5 * (sorted_values[n // 2 - 1] + sorted_values[n // 2])


@numba.njit(cache=False, nogil=True)
def _look(table: np.ndarray, r_positive: bool, u_in: int, r_in: int, n_u: int, n_r: int) -> float:
    """The epsilon of a test that calls u_in of the unlearned and r_in of the retrained values positive (the
    layout of forgetting_score.epsilon_table: retrained-positive block first)."""
    if r_positive:
        return table[r_in * (n_u + 1) + u_in]
    return table[(n_r + 1) * (n_u + 1) + u_in * (n_r + 1) + r_in]


@numba.njit(cache=False, nogil=True)
def _merge(u: np.ndarray, r: np.ndarray, t: np.ndarray, counts: np.ndarray) -> None:
    """Pool sorted u [n_u] and r [n_r] into t [T] (sorted) and fill counts [4, T]: for each t_k the number of
    u values < t_k, u values <= t_k, r values < t_k, r values <= t_k. Linear, into preallocated arrays."""
    n_u, n_r = len(u), len(r)
    a = b = 0
    for k in range(n_u + n_r):
        if b >= n_r or (a < n_u and u[a] <= r[b]):
            t[k] = u[a]
            a += 1
        else:
            t[k] = r[b]
            b += 1
    lt_u = le_u = lt_r = le_r = 0
    for k in range(n_u + n_r):
        while lt_u < n_u and u[lt_u] < t[k]:
            lt_u += 1
        while le_u < n_u and u[le_u] <= t[k]:
            le_u += 1
        while lt_r < n_r and r[lt_r] < t[k]:
            lt_r += 1
        while le_r < n_r and r[le_r] <= t[k]:
            le_r += 1
        counts[0, k], counts[1, k], counts[2, k], counts[3, k] = lt_u, le_u, lt_r, le_r


@numba.njit(cache=False, nogil=True)
def _example(u: np.ndarray, r: np.ndarray, table: np.ndarray, window: float, peaky_ratio: float, cap: float,
             t: np.ndarray, counts: np.ndarray) -> float:
    """Epsilon of one example. u: sorted float64 [n_u]; r: sorted float64 [n_r]; window: math.inf for every
    interval; t [n_u + n_r] and counts [4, n_u + n_r]: work space."""
    n_u, n_r = len(u), len(r)
    r_pos = _median(r) > _median(u)
    range_u, range_r = u[-1] - u[0], r[-1] - r[0]
    range_pos, range_neg = (range_r, range_u) if r_pos else (range_u, range_r)
    r_peaky = r_pos == (range_pos < range_neg)
    best = -math.inf
    _merge(u, r, t, counts)
    T = n_u + n_r
    for k in range(T):  # one threshold: value >= t_k is positive
        best = max(best, _look(table, r_pos, n_u - counts[0, k], n_r - counts[2, k], n_u, n_r))
    peaky = r if r_peaky else u
    top, width = peaky[-1], peaky[-1] - peaky[0]
    # two thresholds [l, h], the peaky sample positive: the values t_i..t_j are inside when h in [t_j, t_j+1) and
    # l in (t_i-1, t_i]; with h within the window of top and h - l within the window of width
    first = 0  # the smallest i with t_i >= h_lo - width - window; h_lo grows with j, so it only moves up
    for j in range(T):
        t_next = t[j + 1] if j + 1 < T else math.inf
        h_lo, h_hi = max(t[j], top - window), min(t_next, top + window)
        if not (h_lo < t_next and h_lo <= top + window):
            continue
        while first < T and t[first] < h_lo - width - window:
            first += 1
        # and t_i-1 < h_hi - width + window: i runs up from `first` until that fails
        for i in range(first, j + 1):
            t_prev = t[i - 1] if i > 0 else -math.inf
            if not h_hi - t_prev > width - window:
                break
            if t_prev < t[i]:  # the first of its ties
                best = max(best, _look(table, r_peaky, counts[1, j] - counts[0, i], counts[3, j] - counts[2, i],
                                       n_u, n_r))
    best = max(best, 0.0)
    small, large = min(range_pos, range_neg), max(range_pos, range_neg)
    if large > 0 and small / large < peaky_ratio:
        best = math.inf
    return min(best, cap)


@numba.njit(cache=False, nogil=True)
def epsilons(u: np.ndarray, r: np.ndarray, table: np.ndarray, window: float, peaky_ratio: float,
             cap: float) -> np.ndarray:
    """u: float64 [E, n_u], r: float64 [E, n_r], each row sorted -> float64 [E] epsilons."""
    out = np.empty(u.shape[0])
    T = u.shape[1] + r.shape[1]
    t, counts = np.empty(T), np.empty((4, T), dtype=np.int64)
    for e in range(u.shape[0]):
        out[e] = _example(u[e], r[e], table, window, peaky_ratio, cap, t, counts)
    return out


@numba.njit(cache=False, nogil=True)
def separated(u: np.ndarray, r: np.ndarray) -> np.ndarray:
    """bool [E]: the two samples do not overlap (every resample of them is separated too: epsilon infinite)."""
    return (u[:, -1] < r[:, 0]) | (r[:, -1] < u[:, 0])
