"""The per-example forgetting score of the NeurIPS 2023 Machine Unlearning Challenge, as defined by Triantafillou
et al. (2024), "Are we making progress in unlearning? Findings from the first NeurIPS unlearning competition".

Unlearning is judged against the distribution of retrains: each forget example is fed to N unlearned and N
retrained models, giving two samples of its logit-scaled confidence. The better a simple test tells the two
samples apart, the larger the example's (epsilon, delta) "privacy degree":
    epsilon = max over tests of max(log(1 - delta - FPR) - log(FNR), log(1 - delta - FNR) - log(FPR)),
with FPR / FNR the test's empirical error rates on the two samples. Epsilons are bucketed (width 0.5, the k-th
bucket worth 2^-k) and averaged over examples; the final score multiplies that by the retain and test accuracy
ratios of unlearned to retrained models.

Details follow the competition's published scoring code:
- delta = 1e-5; a test with FPR = FNR = 0 separates perfectly (epsilon = infinity, capped at 50); a test with only
  one of them 0 is discarded as a sign of too few samples, not evidence; negative epsilons count as 0.
- Two rule families. One threshold: predict the sample with the larger median above it. Two thresholds: predict
  the sample with the smaller range (the "peakier" one; on equal ranges the one with the smaller median) between
  them, for intervals whose top is within 2 of that sample's max and whose width is within 2 of its range.
  An example whose smaller range is under 1 % of the larger gets the cap outright.
- The score gives 0 points at or above ceil(log(N - 1)), the largest epsilon N samples can show short of
  perfect separation, rounded up.
The window of 2 matters: with every interval allowed (window=None) the search finds more chance differences
between two draws of one distribution, and their score falls with N (~0.13 at N = 16, ~0.07 at N = 128 for two
standard normal samples of 400 examples) where the window keeps it at 0.17-0.18 from N = 16 to 128.
Deliberate differences: the scoring code scans threshold positions on a grid of step 0.01; here every decision
of the same rule families is tried exactly (each sample value as a threshold, each interval of sample values the
window allows), so an epsilon here is >= the grid's on the same samples. They differ where two values lie closer
than the grid step (a few % of examples of normal samples; scores within 0.005). An example that no test can
tell apart at all (e.g. both samples one constant) gets epsilon 0 here (the scoring code stops with an error).
"""
from __future__ import annotations

import math

import torch

DELTA = 1e-5
EPSILON_CAP = 50.0
BUCKET_WIDTH = 0.5
WINDOW = 2.0  # two-threshold rules: the interval's top and width within this of the peaky sample's max and range
PEAKY_RATIO = 0.01  # smaller range / larger range below which an example gets the cap outright
# examples x intervals per step of the two-threshold search: 2^16 keeps each step's tensors in cache (0.040 s for
# E = 360, N = 32 a side, against 0.074 s with 2^21, whose 12 MB temporaries cost page faults at every call)
_CHUNK = 2 ** 16


def logit_confidence(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log(p_y / (1 - p_y)) of each example's label slot under each model, the statistic the score compares.
    logits: float [M, E, S] (M models, E examples, S >= 2 slots); labels: int64 [E] -> float64 [M, E].
    Computed as z_y - logsumexp_{j != y} z_j, which never takes log(0): finite for any finite logits. (The
    softmax form saturates at p_y = 1 once z_y leads by ~37 in float64; the scoring code adds 1e-45 inside
    both logs, which bounds its confidences near +-103 where this one goes on.)"""
    if logits.shape[-1] < 2:
        raise ValueError("logit_confidence needs at least 2 output slots")
    z = logits.double()
    index = labels.view(1, -1, 1).expand(z.shape[0], -1, 1)
    z_y = z.gather(-1, index).squeeze(-1)
    others = z.scatter(-1, index, float("-inf"))
    return z_y - torch.logsumexp(others, -1)


def _epsilon(fpr: torch.Tensor, fnr: torch.Tensor, delta: float) -> torch.Tensor:
    """Per test: +inf on perfect separation, NaN where exactly one rate is 0 (discarded), else the (epsilon,
    delta) bound, at least 0. NaN also where both bounds are undefined (FPR = FNR = 1)."""
    bound = torch.fmax(torch.log(1 - delta - fpr) - torch.log(fnr),
                       torch.log(1 - delta - fnr) - torch.log(fpr)).clamp_min(0)
    eps = torch.where((fpr == 0) != (fnr == 0), torch.nan, bound)
    return torch.where((fpr == 0) & (fnr == 0), torch.inf, eps)


class _Table:
    """A test's epsilon depends only on how many values of each sample it calls positive and on which sample
    is the positive one: every epsilon for samples of n_u and n_r values, computed once and looked up
    (-inf for discarded tests)."""

    def __init__(self, n_u: int, n_r: int, delta: float):
        self.n_u, self.n_r = n_u, n_r
        tables = []
        for n_pos, n_neg in ((n_r, n_u), (n_u, n_r)):  # retrained positive, then unlearned positive
            pos = torch.arange(n_pos + 1, dtype=torch.float64)[:, None]
            neg = torch.arange(n_neg + 1, dtype=torch.float64)[None, :]
            eps = _epsilon(neg / n_neg, (n_pos - pos) / n_pos, delta)  # [n_pos + 1, n_neg + 1]
            tables.append(torch.where(eps.isnan(), -torch.inf, eps).flatten())
        self.flat = torch.cat(tables)

    def __call__(self, r_pos: torch.Tensor, u_cnt: torch.Tensor, r_cnt: torch.Tensor) -> torch.Tensor:
        """r_pos: bool [E], the retrained sample is the positive one; u_cnt, r_cnt: int [E, ...], values of each
        sample called positive -> epsilons [E, ...]."""
        shape = (-1,) + (1,) * (u_cnt.dim() - 1)
        r_pos = r_pos.view(shape)
        index = torch.where(r_pos, r_cnt * (self.n_u + 1) + u_cnt,
                            (self.n_r + 1) * (self.n_u + 1) + u_cnt * (self.n_r + 1) + r_cnt)
        return self.flat[index]


def _counts(sample: torch.Tensor, at: torch.Tensor, right: bool) -> torch.Tensor:
    """sample: sorted [E, n]; at: [E, T] -> [E, T] the number of sample values <= at (right) or < at."""
    return torch.searchsorted(sample, at, right=right)


def _single_threshold(u: torch.Tensor, r: torch.Tensor, r_pos: torch.Tensor, table: _Table) -> torch.Tensor:
    """Best epsilon [E] of the rules 'value >= t -> positive' for t at every sample value; the positive sample
    of each example is the one with the larger median (r_pos [E]: the retrained one). u, r: sorted [E, n]."""
    t = torch.cat([u, r], 1)
    u_ge = u.shape[1] - _counts(u, t, right=False)  # [E, T] values >= t
    r_ge = r.shape[1] - _counts(r, t, right=False)
    return table(r_pos, u_ge, r_ge).amax(1)


def _window(t: torch.Tensor, top: torch.Tensor, width: torch.Tensor, window: float) -> torch.Tensor:
    """[e, i, j]: whether some interval [l, h] with h in top +- window and h - l in width +- window calls
    exactly the values t[i..j] positive. t: sorted [e, T]; top, width: [e, 1], the peaky sample's max and range.
    Such [l, h] has h in [t_j, t_j+1) and l in (t_i-1, t_i] (none when t_j+1 = t_j or t_i-1 = t_i: tied values
    go together), so its width spans [h_lo - t_i, h_hi - t_i-1) once h is also held within the window."""
    inf = torch.full_like(top, torch.inf)
    t_next, t_prev = torch.cat([t[:, 1:], inf], 1), torch.cat([-inf, t[:, :-1]], 1)
    h_lo, h_hi = torch.maximum(t, top - window), torch.minimum(t_next, top + window)
    h_ok = (h_lo < t_next) & (h_lo <= top + window)  # [e, j]
    return ((t_prev < t)[:, :, None] & h_ok[:, None, :]
            & (h_lo[:, None, :] - t[:, :, None] <= (width + window)[:, :, None])
            & (h_hi[:, None, :] - t_prev[:, :, None] > (width - window)[:, :, None]))


def _double_threshold(u: torch.Tensor, r: torch.Tensor, r_peaky: torch.Tensor, table: _Table,
                      window: float | None) -> torch.Tensor:
    """Best epsilon [E] of the rules 'l <= value <= h -> positive', the positive sample being the peakier one
    (r_peaky [E]: the retrained one). u, r: sorted [E, n]. Each rule is taken as the set of values it calls
    positive, t[i..j] of the sorted pooled values t; `window`: only intervals whose top is within it of the
    peaky sample's max and whose width is within it of that sample's range, as in the scoring code (None: every
    interval)."""
    t = torch.cat([u, r], 1).sort(1).values  # [E, T]
    E, T = t.shape
    p = r_peaky[:, None]
    top = torch.where(p, r[:, -1:], u[:, -1:])  # [E, 1], the peaky sample's max
    width = top - torch.where(p, r[:, :1], u[:, :1])  # and its range
    upper = torch.ones(T, T, dtype=torch.bool).triu()  # [i, j]: i <= j
    step = max(1, _CHUNK // (T * T))
    out = []
    for lo in range(0, E, step):  # a loop over chunks of examples, for memory only
        c = slice(lo, lo + step)
        u_in = _counts(u[c], t[c], True)[:, None, :] - _counts(u[c], t[c], False)[:, :, None]  # [e, i, j]
        r_in = _counts(r[c], t[c], True)[:, None, :] - _counts(r[c], t[c], False)[:, :, None]
        eps = table(r_peaky[c], u_in.clamp_min(0), r_in.clamp_min(0))  # i > j: masked below
        keep = upper if window is None else upper & _window(t[c], top[c], width[c], window)
        out.append(torch.where(keep, eps, -torch.inf).flatten(1).amax(1))
    return torch.cat(out)


def _median(x: torch.Tensor) -> torch.Tensor:
    return torch.quantile(x, 0.5, dim=1)  # the mean of the two middle values for even n, as numpy's median


def example_epsilons(unlearned: torch.Tensor, retrained: torch.Tensor, delta: float = DELTA,
                     cap: float = EPSILON_CAP, window: float | None = WINDOW) -> torch.Tensor:
    """The epsilon of each forget example, in [0, cap]. unlearned: float [N_u, E], retrained: float [N_r, E],
    each example's confidence under each model (logit_confidence) -> float64 [E]. Vectorised over examples:
    ~0.04 s for E = 400, N = 32 a side on one CPU thread (memory and time grow as E (N_u + N_r)^2).
    window: see WINDOW (None: every interval; not the challenge's calibration)."""
    if unlearned.shape[1] != retrained.shape[1] or min(len(unlearned), len(retrained)) < 2:
        raise ValueError(f"need >= 2 models per side and the same examples, got {tuple(unlearned.shape)} "
                         f"and {tuple(retrained.shape)}")
    u = torch.as_tensor(unlearned, dtype=torch.float64).T.sort(1).values.contiguous()  # [E, N_u]
    r = torch.as_tensor(retrained, dtype=torch.float64).T.sort(1).values.contiguous()  # [E, N_r]
    r_pos = _median(r) > _median(u)
    range_pos, range_neg = (torch.where(r_pos, r[:, -1] - r[:, 0], u[:, -1] - u[:, 0]),
                            torch.where(r_pos, u[:, -1] - u[:, 0], r[:, -1] - r[:, 0]))
    r_peaky = r_pos == (range_pos < range_neg)  # the median-positive sample unless its range is not smaller
    table = _Table(u.shape[1], r.shape[1], delta)
    eps = torch.maximum(_single_threshold(u, r, r_pos, table), _double_threshold(u, r, r_peaky, table, window))
    eps = eps.clamp_min(0)  # -inf: no test could be used, nothing tells the samples apart
    small, large = torch.minimum(range_pos, range_neg), torch.maximum(range_pos, range_neg)
    eps = torch.where(small / large < PEAKY_RATIO, math.inf, eps)  # 0 / 0 (both constant) is not peaky
    return eps.clamp_max(cap)


def max_epsilon(n_models: int) -> int:
    """ceil(log(n - 1)): with n models a side, the smallest non-zero rate is 1/n, so a test short of perfect
    separation shows epsilon <= log(n - 1); the score gives no points from here up."""
    return math.ceil(math.log(n_models - 1)) if n_models > 2 else 0


def forgetting_score(epsilons: torch.Tensor, n_models: int, bucket_width: float = BUCKET_WIDTH) -> float:
    """Mean over examples of 2^-k for an epsilon in bucket k = floor(epsilon / width), 0 at or above
    max_epsilon(n_models). epsilons: [E]; n_models: unlearned models per example (the scoring code's N).
    In [0, 1]: 1 only if every example has epsilon < width."""
    eps = torch.as_tensor(epsilons, dtype=torch.float64)
    points = torch.where(eps < max_epsilon(n_models), 2.0 ** -torch.floor(eps / bucket_width), 0.0)
    return points.mean().item()


def forgetting_quality(unlearned: torch.Tensor, retrained: torch.Tensor, delta: float = DELTA,
                       window: float | None = WINDOW) -> float:
    """The forgetting score of unlearned [N_u, E] against retrained [N_r, E] confidences."""
    return forgetting_score(example_epsilons(unlearned, retrained, delta, window=window), len(unlearned))


def accuracy_ratio(unlearned_accs, retrained_accs) -> float:
    """Mean accuracy of the unlearned models over mean accuracy of the retrained ones, as the scoring code
    computes it (means over the N models of each side, then the ratio). accs: [N_u], [N_r]."""
    u, r = torch.as_tensor(unlearned_accs, dtype=torch.float64), torch.as_tensor(retrained_accs, dtype=torch.float64)
    return (u.mean() / r.mean()).item()


def final_score(forgetting: float, retain_acc_ratio: float, test_acc_ratio: float) -> float:
    """The challenge's final score: forgetting score x retain accuracy ratio x test accuracy ratio
    (accuracy_ratio of each). Not clipped: an unlearned model more accurate than the retrains scores above
    its forgetting score."""
    return forgetting * retain_acc_ratio * test_acc_ratio


def score_ceiling(retrained: torch.Tensor, generator: torch.Generator, delta: float = DELTA,
                  window: float | None = WINDOW, repeats: int = 1) -> float:
    """The forgetting score of an exact retrain: the N retrained models' confidences [N, E] split into two
    disjoint random halves of N // 2, one half scored against the other with the same epsilons and buckets
    (mean over `repeats` splits). Finite samples show chance differences between two draws of the same
    distribution, so this is well below 1 (~0.18 for normal confidences): read a method's score against it,
    not against 1. It is the ceiling at N // 2 models a side, which the score barely depends on."""
    retrained = torch.as_tensor(retrained)
    n, half = len(retrained), len(retrained) // 2
    scores = []
    for _ in range(repeats):
        perm = torch.randperm(n, generator=generator)
        a, b = retrained[perm[:half]], retrained[perm[half:2 * half]]
        scores.append(forgetting_quality(a, b, delta, window))
    return sum(scores) / repeats
