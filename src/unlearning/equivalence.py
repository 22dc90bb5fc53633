"""Verdicts of practical equivalence between a model's distribution over chains and the retrains'.

Per metric, the difference d = mean(model) - mean(retrains) over chains gets a 95 % interval by inverting a
permutation test of a shift (Lehmann, "Nonparametrics", 1975, ch. 2; Ernst, "Permutation methods", Statistical
Science 2004): for each candidate shift delta, the model's values minus delta are exchangeable with the retrains'
under H0: d = delta, so the share of relabellings whose difference of means is at least as extreme is an exact
p-value whatever the metric's distribution (ties and skew near 0 or 1 included). The two samples are unpaired:
a retrain shares no randomness with its chain's original model, so pairing buys nothing.

The difference of means of relabelling p is linear in delta: T_p(delta) = T_p(0) - delta * c_p, with c_p the
share of the model's values in the first group minus their share in the second (1 for the observed labelling).
So each relabelling rejects the shift above or below one breakpoint b_p, and every p-value and both interval ends
are order statistics of the b_p: exact, no bisection.

A verdict compares the interval with the metric's declared tolerance t (audit.tolerance in params.yaml):
- equivalent: the 95 % interval lies within [-t, t] (two one-sided tests at 2.5 % each, Schuirmann 1987);
- different: p of H0 |d| <= t (twice the smaller one-sided p at the shifts +-t) is <= 5 % after Holm's
  step-down correction over the metrics of one model (Holm 1979): the family-wise rate of false flags is <= 5 %;
- inconclusive: neither; n/a: too few chains for any permutation p-value to reach 2.5 %.
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import NamedTuple

import torch

LEVEL = 0.95
ALPHA = 1 - LEVEL
PERMUTATIONS = 9999  # random relabellings (plus the observed one) when there are more distinct ones than this
EQUIVALENT, DIFFERENT, INCONCLUSIVE, NA = "equivalent", "different", "inconclusive", "n/a"


class Difference(NamedTuple):
    """d = mean(model) - mean(retrains), its 95 % interval (+-inf when the chains cannot bound it) and the
    breakpoints that give every p-value."""

    mean: float
    low: float
    high: float
    n: int  # the model's defined values
    m: int  # the retrains'
    breaks: torch.Tensor  # float64 [P'] sorted breakpoints b_p of the relabellings with c_p < 1
    always: int  # relabellings that never reject (the observed one, and any with the same split of values)
    total: int  # relabellings, the observed one included

    def p_greater(self, delta: float) -> float:
        """One-sided p-value of H0: d <= delta (small when d is clearly above delta)."""
        count = self.always + int(torch.searchsorted(self.breaks, torch.tensor(delta, dtype=torch.float64),
                                                     right=True))
        return count / self.total

    def p_less(self, delta: float) -> float:
        """One-sided p-value of H0: d >= delta."""
        count = self.always + len(self.breaks) - int(torch.searchsorted(
            self.breaks, torch.tensor(delta, dtype=torch.float64), right=False))
        return count / self.total

    def p_beyond(self, tolerance: float) -> float:
        """p-value of H0: |d| <= tolerance (tolerance 0: the ordinary two-sided test of no difference)."""
        return min(1.0, 2 * min(self.p_greater(tolerance), self.p_less(-tolerance)))

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def _relabellings(n: int, m: int, generator: torch.Generator, permutations: int) -> torch.Tensor:
    """bool [P, n + m]: True where a value goes to the model's group; row 0 the observed labelling. Every
    labelling when there are at most `permutations` + 1 of them (exact test), else random ones."""
    observed = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(m, dtype=torch.bool)])
    if math.comb(n + m, n) <= permutations + 1:
        rows = torch.zeros(math.comb(n + m, n), n + m, dtype=torch.bool)
        for i, chosen in enumerate(combinations(range(n + m), n)):
            rows[i, list(chosen)] = True
        return torch.cat([observed[None], rows[~(rows == observed).all(1)]])
    order = torch.rand(permutations, n + m, generator=generator).argsort(1)  # [P, n + m] random relabellings
    return torch.cat([observed[None], order < n])


def difference(model_values, retrain_values, generator: torch.Generator,
               permutations: int = PERMUTATIONS) -> Difference:
    """The interval of mean(model) - mean(retrains) over chains. values: [N] each, NaN (undefined) dropped."""
    x = torch.as_tensor(model_values, dtype=torch.float64)
    y = torch.as_tensor(retrain_values, dtype=torch.float64)
    x, y = x[~x.isnan()], y[~y.isnan()]
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        mean = (x.mean() - y.mean()).item() if n and m else math.nan
        return Difference(mean, -math.inf, math.inf, n, m, torch.empty(0, dtype=torch.float64), 1, 1)
    pooled = torch.cat([x, y])  # [n + m]
    groups = _relabellings(n, m, generator, permutations)  # [P, n + m]
    in_x = groups.double()
    shift = (in_x * pooled).sum(1) / n - ((1 - in_x) * pooled).sum(1) / m  # T_p(0) [P]
    share = in_x[:, :n].sum(1)  # the model's values in the model's group
    c = share / n - (n - share) / m  # [P]; 1 for the observed labelling
    observed = shift[0]
    moves = c < 1
    breaks = ((observed - shift[moves]) / (1 - c[moves])).sort().values  # b_p [P']
    always, total = int((~moves).sum()), len(groups)
    # the smallest count of breakpoints <= delta at which p_greater(delta) exceeds ALPHA / 2
    need = math.floor(ALPHA / 2 * total) + 1 - always
    low = breaks[need - 1].item() if need >= 1 else -math.inf
    high = breaks[len(breaks) - need].item() if need >= 1 else math.inf
    return Difference(observed.item(), low, high, n, m, breaks, always, total)


def smallest_p(n: int, m: int, permutations: int = PERMUTATIONS) -> float:
    """The smallest two-sided p-value a test of n against m values can give (its one-sided tail: the observed
    labelling alone)."""
    return min(1.0, 2 / min(math.comb(n + m, n), permutations + 1))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (monotone, capped at 1), in the order given."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [1.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def verdicts(differences: dict[str, Difference], tolerances: dict[str, float]) -> dict[str, str]:
    """metric -> equivalent / different / inconclusive / n/a; 'different' Holm-corrected over these metrics."""
    usable = [k for k, d in differences.items() if d.bounded]
    adjusted = dict(zip(usable, holm([differences[k].p_beyond(tolerances[k]) for k in usable])))
    out = {}
    for key, d in differences.items():
        t = tolerances[key]
        if key not in adjusted:
            out[key] = NA
        elif adjusted[key] <= ALPHA:
            out[key] = DIFFERENT
        elif -t <= d.low and d.high <= t:
            out[key] = EQUIVALENT
        else:
            out[key] = INCONCLUSIVE
    return out


def false_flag_rates(reference: dict[str, torch.Tensor], tolerances: dict[str, float], splits: int,
                     generator: torch.Generator, permutations: int = 1999) -> dict[str, dict[str, float]]:
    """How often the verdicts flag an exact retrain. reference: metric -> float64 [2N], the values of 2N retrains
    (NaN where undefined); each split draws half of the defined values as the 'model' and half as the
    'retrains', as an exact retrain and the pipeline's retrains are. Returns metric -> {'any': share of splits
    whose uncorrected test at tolerance 0 rejects (the test's own false-positive rate), 'different': share
    flagged by the verdict}, plus '(any metric)': the share of splits with at least one 'different'."""
    any_rate, diff_rate, family = {k: 0 for k in reference}, {k: 0 for k in reference}, 0
    for _ in range(splits):
        diffs = {}
        for key, values in reference.items():
            v = values[~values.isnan()]
            order = torch.randperm(len(v), generator=generator)
            half = len(v) // 2
            diffs[key] = difference(v[order[:half]], v[order[half:2 * half]], generator, permutations)
            any_rate[key] += diffs[key].bounded and diffs[key].p_beyond(0.0) <= ALPHA
        flagged = verdicts(diffs, tolerances)
        for key, verdict in flagged.items():
            diff_rate[key] += verdict == DIFFERENT
        family += DIFFERENT in flagged.values()
    rates = {k: {"any": any_rate[k] / splits, "different": diff_rate[k] / splits} for k in reference}
    rates["(any metric)"] = {"any": math.nan, "different": family / splits}
    return rates
