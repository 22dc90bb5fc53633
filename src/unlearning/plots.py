"""Matplotlib figures of the evaluation (Agg backend, PNG). Inputs are the evaluate stage's outputs: the flat
summary {model: {metric: mean, metric_ci95: half-width}}, predictions and mean relearn curves."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from unlearning.attacks.probe import HIDING_FORGET_ACC  # noqa: E402


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _style(name: str) -> dict:
    """The oracle is the reference point in every figure: a large red star."""
    return dict(fmt="*", ms=14, color="crimson") if name == "oracle" else dict(fmt="o", ms=6)


def confusion_figure(frame: pd.DataFrame, title: str, path) -> None:
    """frame: actual (dataset label), predicted (slot name), pooled over seeds; rows normalised to 1."""
    counts = pd.crosstab(frame["actual"], frame["predicted"], normalize="index")
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    image = ax.imshow(counts.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(counts.columns)), counts.columns, rotation=45)
    ax.set_yticks(range(len(counts.index)), counts.index)
    for (i, j), value in pd.DataFrame(counts.to_numpy()).stack().items():
        if value >= 0.005:
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if value > 0.6 else "black")
    ax.set(xlabel="predicted (slot)", ylabel="true digit", title=title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    _save(fig, path)


def tradeoff_figure(summary: dict, path) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, m in summary.items():
        ax.errorbar(m["forget_acc"], m["retain_acc"], xerr=m.get("forget_acc_ci95"), yerr=m.get("retain_acc_ci95"),
                    capsize=3, label=name, **_style(name))
    ax.set(xlabel="forget accuracy (lower = more forgotten)", ylabel="retain accuracy",
           title="Forgetting vs retaining (mean ± 95 % CI)")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    _save(fig, path)


def relearn_figure(curves: pd.DataFrame, path) -> None:
    """curves: mean over seeds, columns model, k, step, forget_acc; one panel per k."""
    ks = sorted(curves.k.unique())
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 3.6), squeeze=False, sharey=True)
    for ax, k in zip(axes[0], ks):
        for name, curve in curves[curves.k == k].groupby("model", sort=False):
            style = dict(color="black", ls="--", lw=2) if name == "oracle" else {}
            ax.plot(curve.step, curve.forget_acc, label=name, **style)
        ax.set(title=f"relearn with k={k} forget samples", xlabel="attack step", ylabel="forget accuracy")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7)
    _save(fig, path)


def _having(summary: dict, *keys: str):
    """(model, metrics) pairs whose metrics have a value for every key (null = not measured in this scenario)."""
    return [(n, m) for n, m in summary.items() if all(m.get(k) is not None for k in keys)]


def _ci(m: dict, key: str) -> float:
    value = m.get(f"{key}_ci95")
    return 0.0 if value is None else value


def gap_speed_figure(summary: dict, path) -> None:
    """Gap to the oracle (y, lower = closer) vs speed-up over retraining (x, log: training-free methods reach
    10^5 and more). Bars: 95 % CI; a lower x bar that would cross zero is cut at the axis."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, m in _having(summary, "speedup", "gap_to_oracle"):
        x, half = m["speedup"], _ci(m, "speedup")
        low = min(half, x * (1 - 1e-3))  # log axis: the bar cannot reach 0
        ax.errorbar(x, m["gap_to_oracle"], xerr=[[low], [half]], yerr=_ci(m, "gap_to_oracle"), capsize=3,
                    label=name, **_style(name))
        ax.annotate(name, (x, m["gap_to_oracle"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set(xlabel="speed-up over retraining the oracle (log)", ylabel="gap to oracle (lower = closer)",
           title="Closeness to the oracle vs cost (mean ± 95 % CI)")
    ax.grid(alpha=0.3, which="both")
    _save(fig, path)


def probe_figure(summary: dict, path) -> None:
    """Probe recall on frozen features (y) vs output forget accuracy (x). The dashed diagonal joins the original
    to the oracle: a model that truly forgets moves along it towards the oracle; one that only hides the class
    sits above it at the left (output forgotten, features not). Shaded: the hiding zone, from the means of the
    original's and the oracle's probe recall (the flag itself is decided per seed)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ends = [summary.get(n, {}) for n in ("original", "oracle")]
    if all(e.get("probe_recall") is not None and e.get("forget_acc") is not None for e in ends):
        ax.plot([e["forget_acc"] for e in ends], [e["probe_recall"] for e in ends], color="grey", lw=1, ls="--",
                label="original → oracle")
        middle = (ends[0]["probe_recall"] + ends[1]["probe_recall"]) / 2
        ax.axhspan(middle, 1.02, xmax=(HIDING_FORGET_ACC + 0.02) / 1.04, color="orange", alpha=0.2,
                   label="hiding zone")
    for name, m in _having(summary, "forget_acc", "probe_recall"):
        ax.errorbar(m["forget_acc"], m["probe_recall"], xerr=_ci(m, "forget_acc"), yerr=_ci(m, "probe_recall"),
                    capsize=3, label=name, **_style(name))
        ax.annotate(name, (m["forget_acc"], m["probe_recall"]), fontsize=6, xytext=(5, 0),
                    textcoords="offset points", va="center")
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="output forget accuracy",
           ylabel="probe recall of the forgotten class (frozen features)",
           title="Output vs representation (mean ± 95 % CI)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    _save(fig, path)


def log10(values: pd.Series) -> pd.Series:
    """For DVC's linear-axis templates: speed-ups span 1 to 10^6."""
    return np.log10(values.clip(lower=1e-9))
