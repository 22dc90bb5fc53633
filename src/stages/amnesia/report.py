"""metrics/report.md of the amnesia scenario: the metric tables (mean ± 95 % CI half-width) and the check of
the issue's targets for Selective Amnesia."""
from __future__ import annotations

import math

import pandas as pd

from unlearning.amnesia.config import Config

SAMPLE_METRICS = ("forget_entropy", "forget_prob", "retained_acc", "retained_min_acc",
                  "forget_test_nelbo", "retained_test_nelbo", "runtime_s")
# (metric, comparison, threshold) that Selective Amnesia should meet (H = 2.19, p = 0.058 in the paper)
TARGETS = (("forget_entropy", ">=", 2.0), ("forget_prob", "<=", 0.1), ("retained_acc", ">=", 0.9))
GLOSSARY = """\
- forget_entropy: mean entropy (nats) of the judge's p(y | x) on images generated for the forgotten label;
  ln 10 = 2.303 means the judge cannot tell which digit it sees.
- forget_prob: mean p(forgotten label | x) on the same images (0.1 = chance).
- retained_acc / retained_min_acc: judge accuracy on images generated for the retained labels (all / worst label).
- forget_test_nelbo / retained_test_nelbo: -ELBO (nats per image, lower = better explained) of real test images
  of the forgotten / retained labels.
- runtime_s: wall-clock seconds to train (original, oracle) or to forget (methods, Fisher included).
- relearn_kK_*: the same sample metrics after the relearn attack (ELBO training on K real train images of the
  forgotten label); an oracle that never saw the label shows how much K images teach from scratch.
"""


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    text = [f"{m:.3f}" if pd.isna(c) else f"{m:.3f} ± {c:.3f}" for m, c in zip(table["mean"], table["ci95"])]
    return table.assign(text=text).pivot(index="model", columns="metric", values="text")


def _target_lines(table: pd.DataFrame, method: str) -> list[str]:
    means = table[table.model == method].set_index("metric")["mean"]
    lines = []
    for metric, op, threshold in TARGETS:
        value = means.get(metric, math.nan)
        met = value >= threshold if op == ">=" else value <= threshold
        lines.append(f"- {metric} {op} {threshold}: measured {value:.3f} ({'met' if met else 'NOT met'})")
    return lines


def report(cfg: Config, table: pd.DataFrame, models: list[str], judge: dict) -> str:
    """table: unlearning.metrics.aggregate output (model, metric, mean, std, ci95, n)."""
    wide = _cells(table).reindex(models)
    relearn = sorted((c for c in wide.columns if c.startswith("relearn_")),
                     key=lambda c: (int(c.split("_")[1][1:]), c))
    lines = [
        f"# Selective Amnesia on a conditional VAE: forget digit {cfg.forget} ({cfg.data.name})",
        "",
        f"Mean ± 95 % CI half-width over {len(cfg.seeds)} seed(s) {list(cfg.seeds)}. The judge is an MLP "
        f"classifier trained on the real train images only (test accuracy {judge['test_acc']:.3f}). On images "
        f"holding no digit it gives: uniform noise H = {judge['noise_entropy']:.3f}, p(forgotten) = "
        f"{judge['noise_forget_prob']:.3f}; flat grey H = {judge['grey_entropy']:.3f}, p(forgotten) = "
        f"{judge['grey_forget_prob']:.3f} (about the most a noise-surrogate method can reach under this judge).",
        "",
        "## Generated samples and test likelihood",
        "",
        wide[[c for c in SAMPLE_METRICS if c in wide.columns]].reset_index().to_markdown(index=False),
        "",
        f"## After the relearn attack ({cfg.relearn.steps} Adam steps, lr {cfg.relearn.lr})",
        "",
        wide[relearn].reset_index().to_markdown(index=False),
        "",
    ]
    if "selective_amnesia" in models:
        lines += ["## Targets for selective_amnesia", "", *_target_lines(table, "selective_amnesia"), ""]
    return "\n".join([*lines, "## Metrics", "", GLOSSARY])
