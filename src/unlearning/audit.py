"""The verdict on every model: its distribution over chains against the distribution of retrains.

Two populations of retrains, each one per chain from its own initialisation: `oracle` (what every model is judged
against) and `oracle_b` (a second, independent draw: an exact retrain, scored and judged like any method). Two
kinds of evidence:
- The per-example forgetting score of the NeurIPS 2023 unlearning challenge (unlearning.forgetting_score): for each
  forget-train example, how well a threshold test tells the model's N confidences from the N retrains'. Its
  ceiling is the score of `oracle_b`, with the same N models a side as every method: what an exact retrain scores.
  Interval: percentile bootstrap, SCORE_RESAMPLES resamples of each side's models, each rescored, recentred on
  the score (score_interval says why).
- Every population metric against the retrains (unlearning.equivalence): the interval of the difference of means
  and a verdict against the metric's tolerance: equivalent, different (Holm over the model's metrics), or
  inconclusive.
Derived flags: `hiding` = the probe reads the forgotten class beyond tolerance above the retrains while the forget-
set outputs are not above them; `over_forget` = forget-set accuracy beyond tolerance below the retrains'; `passes`
= forgetting score >= audit.pass_share of the ceiling and every metric equivalent."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from unlearning import equivalence, stats
from unlearning.core import rng
from unlearning.core.config import AuditConfig
from unlearning.forgetting_score import (accuracy_ratio, bootstrap_scores, example_epsilons, final_score,
                                         forgetting_score, max_epsilon)

# Population metrics judged against the retrains (those a scenario defines; relearn_auc_k<K> are added per k)
BAND_METRICS = ("forget_acc", "retain_acc", "new_acc", "test_acc", "mia_efficacy", "mia_loss_auc", "probe_recall")
SHORT = {"forget_acc": "forget", "retain_acc": "retain", "new_acc": "new", "test_acc": "test", "mia_efficacy": "mia",
         "mia_loss_auc": "mia-auc", "probe_recall": "probe"}
# one-letter codes of the verdict table's "different" column (relearn_auc_k<K>: K<K>)
CODE = {"forget_acc": "F", "retain_acc": "R", "new_acc": "N", "test_acc": "T", "mia_efficacy": "M",
        "mia_loss_auc": "A", "probe_recall": "P"}
SCORE_RESAMPLES = 1000  # bootstrap resamples of the forgetting score, each one rescored (~2 ms each at N = 32)
MIN_SCORE_CHAINS = 4  # below, max_epsilon(N) <= 1: every example scores 0 or 1, the score says nothing
REFERENCE = "oracle"  # the retrains every model is judged against
EXACT = "oracle_b"  # the second population of retrains: the ceiling, and one draw of what the verdicts say of it


def short(metric: str) -> str:
    return SHORT.get(metric, metric.replace("relearn_auc_k", "relearn"))


def code(metric: str) -> str:
    return CODE.get(metric, metric.replace("relearn_auc_k", "K"))


def resolution(n_models: int) -> str:
    """What the score can tell apart with n models a side, in words."""
    top = max_epsilon(n_models)
    if n_models < MIN_SCORE_CHAINS:
        return f"with {n_models} models a side no finite epsilon is above 0: the score is not computed"
    return (f"with {n_models} models a side the largest finite epsilon is log({n_models - 1}) = "
            f"{np.log(n_models - 1):.3f}; examples at epsilon >= {top} score 0, below that {2 * top} buckets of "
            f"0.5 worth 1 down to 2^-{2 * top - 1}")


@dataclass
class ModelAudit:
    model: str
    chains: int  # chains on which both this model and the retrain have confidences
    forgetting: stats.Interval | None  # per-example forgetting score and its bootstrap interval (None: oracle)
    score_draws: np.ndarray | None  # float64 [SCORE_RESAMPLES], the bootstrap resamples of the score
    ceiling_share: float | None  # forgetting score / the ceiling (oracle_b's score)
    final: float | None  # forgetting x retain-train accuracy ratio x test accuracy ratio to the retrains
    metrics: dict[str, stats.Interval]  # metric -> mean over chains and its bootstrap interval
    differences: dict[str, equivalence.Difference]  # metric -> mean(model) - mean(retrains) and its interval
    verdicts: dict[str, str]  # metric -> equivalent / different / inconclusive / n/a (none for the oracle)
    hiding: bool
    over_forget: bool
    passes: bool
    epsilons: np.ndarray | None  # float64 [E], each forget example's epsilon
    compute_share: float | None = None  # mean over chains of its compute over the retrain's (None: not counted)

    @property
    def flagged(self) -> list[str]:
        """Metrics different from the retrains beyond tolerance, as 'F↓' / 'P↑' (CODE)."""
        return [f"{code(m)}{'↑' if self.differences[m].mean > 0 else '↓'}" for m, v in self.verdicts.items()
                if v == equivalence.DIFFERENT]

    @property
    def equivalent(self) -> int:
        return sum(v == equivalence.EQUIVALENT for v in self.verdicts.values())


def band_metrics(per_chain: pd.DataFrame) -> list[str]:
    relearn = sorted((c for c in per_chain.columns if c.startswith("relearn_auc_k")), key=lambda c: int(c[13:]))
    return [m for m in (*BAND_METRICS, *relearn) if m in per_chain and per_chain[m].notna().any()]


def by_chain(per_chain: pd.DataFrame, model: str, metric: str, chains: list[int]) -> torch.Tensor:
    values = per_chain[per_chain.model == model].set_index("seed")[metric].reindex(chains)
    return torch.tensor(values.to_numpy(dtype=float), dtype=torch.float64)


def score_interval(u: torch.Tensor, r: torch.Tensor, generator: torch.Generator
                   ) -> tuple[stats.Interval, np.ndarray, np.ndarray]:
    """Forgetting score of u [N_u, E] against r [N_r, E], its 95 % interval, the resamples [SCORE_RESAMPLES]
    recentred on the score, and each example's epsilon float64 [E].

    The interval is the percentile bootstrap recentred on the point: a resample repeats models, and repeated
    values alone make two samples easier to tell apart, so resampled scores sit below the sample's own (by 0.05
    for two draws of one normal distribution at N = 32, where the score is 0.18) while their spread measures the
    sampling spread (there 1.7 times the spread of independent replications: the interval errs wide;
    tests/test_audit.py checks it covers them). So the spread is read from the resamples and the location from
    the sample, clipped to [0, 1]."""
    epsilons = example_epsilons(u, r)
    point = forgetting_score(epsilons, len(u))
    draws = bootstrap_scores(u, r, SCORE_RESAMPLES, generator)
    draws = (draws + (point - draws.mean())).clamp(0, 1)
    q = torch.tensor([(1 - stats.LEVEL) / 2, (1 + stats.LEVEL) / 2], dtype=torch.float64)
    low, high = torch.quantile(draws, q).tolist()
    return stats.Interval(point, low, high), draws.numpy(), epsilons.numpy()


def audit_model(model: str, per_chain: pd.DataFrame, confidences: dict[str, torch.Tensor], chains: list[int],
                audit_cfg: AuditConfig) -> ModelAudit:
    """One model against the retrains. confidences: model -> float64 [N_chains, E] (NaN rows: no model on that
    chain). Its share of the ceiling, and so whether it passes, come from apply_ceiling once oracle_b is
    scored."""
    metrics, differences = {}, {}
    for m in band_metrics(per_chain):
        mine = by_chain(per_chain, model, m, chains)
        metrics[m] = stats.bootstrap_mean_ci(mine, rng.generator(0, "metric", model, m))
        if model != REFERENCE:
            differences[m] = equivalence.difference(mine, by_chain(per_chain, REFERENCE, m, chains),
                                                    rng.generator(0, "difference", model, m))
    verdicts = equivalence.verdicts(differences, {m: audit_cfg.tolerance.of(m) for m in differences})
    u, r = confidences[model], confidences[REFERENCE]
    u, r = u[~u.isnan().any(1)], r[~r.isnan().any(1)]  # unpaired: every model a side has, against every retrain
    forgetting = draws = share = final = epsilons = None  # share: set by apply_ceiling
    if model != REFERENCE and min(len(u), len(r)) >= MIN_SCORE_CHAINS:
        forgetting, draws, epsilons = score_interval(u, r, rng.generator(0, "score", model))
        if {"retain_train_acc", "test_acc"} <= set(per_chain):
            ratios = [accuracy_ratio(*(v[~v.isnan()] for v in (by_chain(per_chain, model, m, chains),
                                                               by_chain(per_chain, REFERENCE, m, chains))))
                      for m in ("retain_train_acc", "test_acc")]
            final = final_score(forgetting.mean, *ratios)
    forget_above = verdicts.get("forget_acc") == equivalence.DIFFERENT and differences["forget_acc"].mean > 0
    hiding = (verdicts.get("probe_recall") == equivalence.DIFFERENT and differences["probe_recall"].mean > 0
              and not forget_above)
    over_forget = verdicts.get("forget_acc") == equivalence.DIFFERENT and differences["forget_acc"].mean < 0
    cost = by_chain(per_chain, model, "compute_share", chains) if "compute_share" in per_chain else None
    cost = None if cost is None or cost.isnan().all() else cost.nanmean().item()
    return ModelAudit(model, min(len(u), len(r)), forgetting, draws, share, final, metrics, differences, verdicts,
                      hiding, over_forget, False, epsilons, cost)


def apply_ceiling(audits: list[ModelAudit], audit_cfg: AuditConfig) -> stats.Interval | None:
    """Set every model's share of the ceiling (oracle_b's score) and whether it passes; returns the ceiling,
    None without one (too few chains, or oracle_b diverged)."""
    exact = next((a for a in audits if a.model == EXACT), None)
    ceiling = exact.forgetting if exact is not None else None
    for a in audits:
        if a.forgetting is not None and ceiling is not None and ceiling.mean > 0:
            a.ceiling_share = a.forgetting.mean / ceiling.mean
        a.passes = (a.ceiling_share is not None and a.ceiling_share >= audit_cfg.pass_share and bool(a.verdicts)
                    and all(v == equivalence.EQUIVALENT for v in a.verdicts.values()))
    return ceiling


def false_flag_rates(per_chain: pd.DataFrame, chains: list[int], audit_cfg: AuditConfig, splits: int = 400
                     ) -> dict[str, dict[str, float]]:
    """The verdicts' false-flag rates at this run's chain counts: the 2N retrains (oracle and oracle_b) split at
    random into two halves of N, `splits` times (equivalence.false_flag_rates)."""
    metrics = band_metrics(per_chain)
    pooled = {m: torch.cat([by_chain(per_chain, REFERENCE, m, chains), by_chain(per_chain, EXACT, m, chains)])
              for m in metrics}
    return equivalence.false_flag_rates(pooled, {m: audit_cfg.tolerance.of(m) for m in metrics}, splits,
                                        rng.generator(0, "false flags"), permutations=999)
