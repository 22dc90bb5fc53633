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

import numpy as np
import torch

from unlearning import score_kernel

DELTA = 1e-5
EPSILON_CAP = 50.0
BUCKET_WIDTH = 0.5
WINDOW = 2.0  # two-threshold rules: the interval's top and width within this of the peaky sample's max and range
PEAKY_RATIO = 0.01  # smaller range / larger range below which an example gets the cap outright


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


def epsilon_table(n_u: int, n_r: int, delta: float) -> np.ndarray:
    """A test's epsilon depends only on how many values of each sample it calls positive and on which sample
    is the positive one: every epsilon for samples of n_u and n_r values, computed once and looked up by
    score_kernel (-inf for discarded tests). float64 [(n_r + 1)(n_u + 1) * 2]: the retrained-positive block
    [r_in, u_in] first, then the unlearned-positive block [u_in, r_in]."""
    tables = []
    for n_pos, n_neg in ((n_r, n_u), (n_u, n_r)):  # retrained positive, then unlearned positive
        pos = torch.arange(n_pos + 1, dtype=torch.float64)[:, None]
        neg = torch.arange(n_neg + 1, dtype=torch.float64)[None, :]
        eps = _epsilon(neg / n_neg, (n_pos - pos) / n_pos, delta)  # [n_pos + 1, n_neg + 1]
        tables.append(torch.where(eps.isnan(), -torch.inf, eps).flatten())
    return torch.cat(tables).numpy()


def example_epsilons(unlearned: torch.Tensor, retrained: torch.Tensor, delta: float = DELTA,
                     cap: float = EPSILON_CAP, window: float | None = WINDOW) -> torch.Tensor:
    """The epsilon of each forget example, in [0, cap]. unlearned: float [N_u, E], retrained: float [N_r, E],
    each example's confidence under each model (logit_confidence) -> float64 [E]. The search over tests is
    unlearning.score_kernel's compiled loop: ~1 ms for E = 360, N = 32 a side.
    window: see WINDOW (None: every interval; not the challenge's calibration)."""
    if unlearned.shape[1] != retrained.shape[1] or min(len(unlearned), len(retrained)) < 2:
        raise ValueError(f"need >= 2 models per side and the same examples, got {tuple(unlearned.shape)} "
                         f"and {tuple(retrained.shape)}")
    u = np.sort(torch.as_tensor(unlearned, dtype=torch.float64).numpy().T, axis=1)  # [E, N_u]
    r = np.sort(torch.as_tensor(retrained, dtype=torch.float64).numpy().T, axis=1)  # [E, N_r]
    return torch.from_numpy(_sorted_epsilons(u, r, delta, cap, window))


def _sorted_epsilons(u: np.ndarray, r: np.ndarray, delta: float, cap: float, window: float | None) -> np.ndarray:
    """u: float64 [E, N_u], r: float64 [E, N_r], rows sorted -> float64 [E]."""
    table = epsilon_table(u.shape[1], r.shape[1], delta)
    return score_kernel.epsilons(np.ascontiguousarray(u), np.ascontiguousarray(r), table,
                                 math.inf if window is None else float(window), PEAKY_RATIO, float(cap))


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


def bootstrap_scores(unlearned: torch.Tensor, retrained: torch.Tensor, resamples: int,
                     generator: torch.Generator, delta: float = DELTA, window: float | None = WINDOW) -> torch.Tensor:
    """The forgetting score of `resamples` bootstrap resamples of the models: each side's N models drawn with
    replacement, independently (the two sides share no randomness), and rescored. unlearned [N_u, E],
    retrained [N_r, E] -> float64 [resamples]. An example whose two samples do not overlap scores 0 points in
    every resample (a resample of separated samples is separated), so only the others are searched."""
    u = torch.as_tensor(unlearned, dtype=torch.float64).numpy().T  # [E, N_u]
    r = torch.as_tensor(retrained, dtype=torch.float64).numpy().T  # [E, N_r]
    n_u, n_r = u.shape[1], r.shape[1]
    open_rows = ~score_kernel.separated(np.sort(u, axis=1), np.sort(r, axis=1))  # bool [E]
    u, r = u[open_rows], r[open_rows]
    pick_u = torch.randint(n_u, (resamples, n_u), generator=generator).numpy()  # [B, N_u] model indices
    pick_r = torch.randint(n_r, (resamples, n_r), generator=generator).numpy()
    scores = torch.empty(resamples, dtype=torch.float64)
    for b in range(resamples):
        eps = np.zeros(len(open_rows))  # separated examples: epsilon infinite in every resample, 0 points
        eps[~open_rows] = math.inf
        eps[open_rows] = _sorted_epsilons(np.sort(u[:, pick_u[b]], axis=1), np.sort(r[:, pick_r[b]], axis=1),
                                          delta, EPSILON_CAP, window)
        scores[b] = forgetting_score(torch.from_numpy(eps), n_u)
    return scores
