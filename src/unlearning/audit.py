"""The verdict on every model: its distribution over chains against the distribution of retrains.

Two kinds of evidence, both against the N retrained models (one per chain), never against one draw:
- The per-example forgetting score of the NeurIPS 2023 unlearning challenge (unlearning.forgetting_score): for each
  forget-train example, how well a threshold test tells the method's N confidences from the retrains' N. It is
  read against its ceiling, the score of one half of the retrains against the other (an exact retrain), because
  finite N keeps even an exact retrain far below 1. Interval: percentile bootstrap over chains (SCORE_RESAMPLES
  resamples of the chain pairs, each rescored; a resample repeats models, which makes a test's job slightly easier,
  so the interval leans low).
- Every population metric against the retrains' band: the method's mean over chains, the retrains' 95 % band
  (bootstrap interval of their mean) and a two-sided verdict from the paired (by chain) bootstrap interval of the
  difference: inside, below or above (unlearning.stats).
Derived flags: `hiding` = the probe reads the forgotten class above the band while the outputs on the forget set
are not above it (the output forgot, the features did not); `over_forget` = forget-set accuracy below the band."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from unlearning import stats
from unlearning.core import rng
from unlearning.forgetting_score import (accuracy_ratio, example_epsilons, forgetting_quality, forgetting_score,
                                         score_ceiling)

# Population metrics judged against the retrain band (those a scenario defines; relearn_auc_k<K> are added per k)
BAND_METRICS = ("forget_acc", "retain_acc", "new_acc", "test_acc", "mia_efficacy", "mia_loss_auc", "probe_recall")
SHORT = {"forget_acc": "forget", "retain_acc": "retain", "new_acc": "new", "test_acc": "test", "mia_efficacy": "mia",
         "mia_loss_auc": "mia-auc", "probe_recall": "probe"}
# one-letter codes of the verdict table's "outside band" column (relearn_auc_k<K>: K<K>)
CODE = {"forget_acc": "F", "retain_acc": "R", "new_acc": "N", "test_acc": "T", "mia_efficacy": "M",
        "mia_loss_auc": "A", "probe_recall": "P"}
SCORE_RESAMPLES = 50  # bootstrap resamples of the forgetting score (each one rescored: ~0.04 s at N = 32)
REFERENCE = "oracle"  # the retrained models


def short(metric: str) -> str:
    return SHORT.get(metric, metric.replace("relearn_auc_k", "relearn"))


def code(metric: str) -> str:
    return CODE.get(metric, metric.replace("relearn_auc_k", "K"))


@dataclass
class ModelAudit:
    model: str
    chains: int  # chains on which both this model and the retrain are defined
    forgetting: stats.Interval | None  # per-example forgetting score (None for the retrain itself)
    ceiling_share: float | None  # forgetting score / the exact-retrain ceiling
    final: float | None  # forgetting x retain-accuracy ratio x test-accuracy ratio to the retrains
    metrics: dict[str, stats.Interval]  # metric -> mean over chains and bootstrap interval
    verdicts: dict[str, str]  # metric -> inside / below / above / n/a against the retrain band
    hiding: bool
    over_forget: bool
    speedup: stats.Interval | None  # retrain seconds / method seconds, by chain; None for models that do not train
    epsilons: np.ndarray | None  # float64 [E], each forget example's epsilon

    @property
    def outside(self) -> list[str]:
        """Metrics outside the band, as 'F↓' / 'P↑' (CODE)."""
        return [f"{code(m)}{'↑' if v == 'above' else '↓'}" for m, v in self.verdicts.items()
                if v in ("above", "below")]


def band_metrics(per_chain: pd.DataFrame) -> list[str]:
    relearn = sorted((c for c in per_chain.columns if c.startswith("relearn_auc_k")), key=lambda c: int(c[13:]))
    return [m for m in (*BAND_METRICS, *relearn) if m in per_chain and per_chain[m].notna().any()]


def _by_chain(per_chain: pd.DataFrame, model: str, metric: str, chains: list[int]) -> torch.Tensor:
    values = per_chain[per_chain.model == model].set_index("seed")[metric].reindex(chains)
    return torch.tensor(values.to_numpy(dtype=float), dtype=torch.float64)


def _score_interval(u: torch.Tensor, r: torch.Tensor, generator: torch.Generator
                    ) -> tuple[stats.Interval, torch.Tensor]:
    """Forgetting score of u [N, E] against r [N, E] (paired rows = chains), its bootstrap interval, and each
    example's epsilon float64 [E]."""
    n = len(u)
    epsilons = example_epsilons(u, r)
    point = forgetting_score(epsilons, n)
    draws = torch.randint(n, (SCORE_RESAMPLES, n), generator=generator)  # [B, N] chain indices
    scores = torch.tensor([forgetting_quality(u[i], r[i]) for i in draws])
    low, high = torch.quantile(scores, torch.tensor([(1 - stats.LEVEL) / 2, (1 + stats.LEVEL) / 2],
                                                    dtype=scores.dtype)).tolist()
    return stats.Interval(point, min(low, point), max(high, point)), epsilons


def ceiling(confidences: dict[str, torch.Tensor]) -> float:
    """The exact-retrain score: one half of the retrains' confidences against the other (mean of 5 splits)."""
    r = confidences[REFERENCE]
    r = r[~r.isnan().any(1)]
    return score_ceiling(r, rng.generator(0, "ceiling"), repeats=5) if len(r) >= 4 else float("nan")


def audit_model(model: str, per_chain: pd.DataFrame, confidences: dict[str, torch.Tensor], chains: list[int],
                trains: bool, top: float) -> ModelAudit:
    """One model against the retrains. confidences: model -> float64 [N_chains, E] (NaN rows: no model on that
    chain); trains: whether the model trains (else no speed-up); top: the ceiling of the forgetting score."""
    metrics, verdicts = {}, {}
    for m in band_metrics(per_chain):
        mine, theirs = _by_chain(per_chain, model, m, chains), _by_chain(per_chain, REFERENCE, m, chains)
        metrics[m] = stats.bootstrap_mean_ci(mine, rng.generator(0, "metric", model, m))
        verdicts[m] = stats.verdict(mine, theirs, rng.generator(0, "verdict", model, m)) if model != REFERENCE \
            else "inside"
    u, r = confidences[model], confidences[REFERENCE]
    valid = ~(u.isnan().any(1) | r.isnan().any(1))  # [N_chains]
    forgetting = share = final = epsilons = None
    if model != REFERENCE and int(valid.sum()) >= 2:
        forgetting, epsilons = _score_interval(u[valid], r[valid], rng.generator(0, "score", model))
        epsilons = epsilons.numpy()
        share = forgetting.mean / top if top == top and top > 0 else None
        if {"retain_acc", "test_acc"} <= set(per_chain):
            ratios = [accuracy_ratio(_by_chain(per_chain, model, m, chains)[valid],
                                     _by_chain(per_chain, REFERENCE, m, chains)[valid])
                      for m in ("retain_acc", "test_acc")]
            final = forgetting.mean * ratios[0] * ratios[1]
    speedup = None
    if trains and model != REFERENCE:
        seconds = _by_chain(per_chain, model, "runtime_s", chains)
        retrain = _by_chain(per_chain, REFERENCE, "runtime_s", chains)
        speedup = stats.bootstrap_mean_ci(retrain / seconds, rng.generator(0, "speedup", model), bounds=None)
    hiding = verdicts.get("probe_recall") == "above" and verdicts.get("forget_acc") in ("inside", "below")
    return ModelAudit(model, int(valid.sum()), forgetting, share, final, metrics, verdicts, hiding,
                      verdicts.get("forget_acc") == "below", speedup, epsilons)
