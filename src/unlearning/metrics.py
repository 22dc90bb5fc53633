"""Output-level metrics of one model on the test side, and (for the scenario pipelines) aggregation over seeds."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats

from unlearning.core.splits import Splits, concat
from unlearning.core.train import predict

# The accuracy metrics, in the order the report shows them.
ACCURACIES = ("forget_acc", "retain_acc", "new_acc", "test_acc")


def _acc(predicted, y) -> float:
    return (predicted == y).float().mean().item() if len(y) else float("nan")


def part_logits(model, test: Splits) -> dict[str, torch.Tensor]:
    """{'forget', 'retain', 'new'} -> the model's logits [N_part, S] on that part, in one forward pass."""
    parts = (test.forget, test.retain, test.new)
    logits = predict(model, concat(*parts).x)
    return dict(zip(("forget", "retain", "new"), logits.split([len(p) for p in parts])))


def accuracies(model, test: Splits, logits: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
    """forget_acc: share of forgotten-class images still predicted in the old slot (lower = more forgotten);
    retain_acc / new_acc: accuracy on the retained classes / the learned class;
    test_acc: accuracy on the final class set (retain + new), what the unlearned model is for.
    logits: the model's part_logits on `test`, when the caller has them already."""
    pred = {name: value.argmax(1) for name, value in (logits or part_logits(model, test)).items()}
    return {
        "forget_acc": _acc(pred["forget"], test.forget.y),
        "retain_acc": _acc(pred["retain"], test.retain.y),
        "new_acc": _acc(pred["new"], test.new.y),
        "test_acc": _acc(torch.cat([pred["retain"], pred["new"]]), test.target.y),
    }


def js_divergence(logits_a: torch.Tensor, logits_b: torch.Tensor) -> float:
    """Mean Jensen-Shannon divergence, in bits (0 = same output distribution, 1 = disjoint), between the softmax
    outputs of two models on the same samples. logits_a, logits_b: [N, S]."""
    if len(logits_a) == 0:
        return float("nan")
    p, q = F.softmax(logits_a.double(), 1), F.softmax(logits_b.double(), 1)
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:  # KL(a || m) per sample [N]; 0 log 0 = 0
        return torch.where(a > 0, a * (a / m).log2(), torch.zeros_like(a)).sum(1)

    return ((kl(p) + kl(q)) / 2).mean().item()


def versus_oracle(mine: dict[str, torch.Tensor], oracle: dict[str, torch.Tensor]) -> dict[str, float]:
    """mine, oracle: part_logits of a model and of the oracle on the same test side.
    oracle_agreement: share of all test images on which both predict the same slot;
    js_forget / js_test: mean JS divergence between their outputs on the forget images / on all test images."""
    a, b = torch.cat(list(mine.values())), torch.cat(list(oracle.values()))
    return {"oracle_agreement": (a.argmax(1) == b.argmax(1)).float().mean().item(),
            "js_forget": js_divergence(mine["forget"], oracle["forget"]), "js_test": js_divergence(a, b)}


def gap_to_oracle(per_seed: pd.DataFrame, metrics: tuple[str, ...]) -> pd.Series:
    """SalUn's "Avg. Gap": per (model, seed) row, the mean absolute difference to the oracle row of the same seed
    over `metrics`. per_seed: one row per (model, seed) with a model == 'oracle' row for every seed."""
    oracle = per_seed[per_seed.model == "oracle"].set_index("seed")[list(metrics)]
    reference = oracle.loc[per_seed.seed].to_numpy()  # [rows, metrics], the oracle of each row's seed
    gaps = np.abs(per_seed[list(metrics)].to_numpy(dtype=float) - reference)  # NaN where a metric does not apply
    # nanmean without its warning for an all-NaN row (a diverged chain): that row's gap is NaN
    counted = (~np.isnan(gaps)).sum(1)
    mean = np.where(counted > 0, np.nansum(gaps, 1) / np.maximum(counted, 1), np.nan)
    return pd.Series(mean, index=per_seed.index)


def ci95_halfwidth(values: np.ndarray) -> float:
    """Half-width of the 95 % Student-t confidence interval of the mean; NaN with fewer than 2 seeds."""
    n = len(values)
    if n < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))


def aggregate(per_seed: pd.DataFrame) -> pd.DataFrame:
    """per_seed: one row per (model, seed), one column per metric -> rows (model, metric), columns
    mean, std, ci95, n."""
    long = per_seed.melt(id_vars=["model", "seed"], var_name="metric").dropna(subset=["value"])
    grouped = long.groupby(["model", "metric"], sort=False)["value"]
    table = grouped.agg(mean="mean", std=lambda v: v.std(ddof=1) if len(v) > 1 else float("nan"),
                        ci95=lambda v: ci95_halfwidth(v.to_numpy()), n="count")
    return table.reset_index()


def finite_or_none(value: float):
    """JSON has no NaN: DVC reads null as 'no value'."""
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
