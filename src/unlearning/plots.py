"""Matplotlib figures of the evaluation (Agg backend, PNG). Inputs are the evaluate stage's outputs: the flat
summary {model: {metric: mean over chains}}, the audit records (intervals, bands, verdicts, epsilons),
predictions and mean relearn curves."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig, path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# 20 distinct colours for up to 20 models: tab20's dark shades first, then its light ones (adjacent tab20 entries
# are a dark/light pair of one hue, so the 11th model onwards gets the light twin of an earlier hue, never a repeat)
PALETTE = [matplotlib.colormaps["tab20"](i) for i in [*range(0, 20, 2), *range(1, 20, 2)]]


def _colour(names: list[str], name: str):
    """The same model gets the same colour in every figure: its position among the non-reference models."""
    others = [n for n in names if n != "oracle"]
    return PALETTE[others.index(name) % len(PALETTE)]


def _style(names: list[str], name: str) -> dict:
    """The oracle (the retrain) is the reference point in every figure: a large black star; every other model
    its own colour."""
    if name == "oracle":
        return dict(fmt="*", ms=15, color="black", zorder=5)
    return dict(fmt="o", ms=6, color=_colour(names, name))


def _within(value: float, half: float | None, low: float = 0.0, high: float = 1.0) -> list[list[float]]:
    """Asymmetric error bar [[below], [above]] of value ± half, cut at the metric's range [low, high]."""
    half = 0.0 if half is None else half
    return [[value - max(low, value - half)], [min(high, value + half) - value]]


def confusion_figure(frame: pd.DataFrame, title: str, path) -> None:
    """frame: actual (dataset label), predicted (slot name), pooled over seeds; rows normalised to 1."""
    counts = pd.crosstab(frame["actual"], frame["predicted"], normalize="index")
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    if counts.empty:  # no prediction to show: the model diverged on every chain (the report says so)
        ax.text(0.5, 0.5, "no predictions: diverged on every chain", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(title)
        _save(fig, path)
        return
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
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    names = list(summary)
    for name, m in _having(summary, "forget_acc", "retain_acc"):  # a model diverged on every seed has no point
        ax.errorbar(m["forget_acc"], m["retain_acc"], xerr=_within(m["forget_acc"], m.get("forget_acc_ci95")),
                    yerr=_within(m["retain_acc"], m.get("retain_acc_ci95")), capsize=3, label=name,
                    **_style(names, name))
    ax.set(xlabel="forget accuracy (lower = more forgotten)", ylabel="retain accuracy",
           title="Forgetting vs retaining (mean ± 95 % CI)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    _save(fig, path)


def relearn_figure(curves: pd.DataFrame, path) -> None:
    """curves: mean over seeds, columns model, k, step, forget_acc; one panel per k."""
    ks = sorted(curves.k.unique())
    names = list(dict.fromkeys(curves.model))
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 3.6), squeeze=False, sharey=True)
    for ax, k in zip(axes[0], ks):
        for name, curve in curves[curves.k == k].groupby("model", sort=False):
            style = dict(color="black", ls="--", lw=2.5, zorder=5) if name == "oracle" else dict(
                color=_colour(names, name), lw=1.2)
            ax.plot(curve.step, curve.forget_acc, label=name, **style)
        ax.set(title=f"relearn with k={k} forget samples", xlabel="attack step", ylabel="forget accuracy")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _save(fig, path)


def _having(summary: dict, *keys: str):
    """(model, metrics) pairs whose metrics have a value for every key (null = not measured in this scenario)."""
    return [(n, m) for n, m in summary.items() if all(m.get(k) is not None for k in keys)]


def _ci(m: dict, key: str) -> float:
    value = m.get(f"{key}_ci95")
    return 0.0 if value is None else value


def score_figure(records: list[dict], ceiling: dict | None, path) -> None:
    """The headline: every model's forgetting score with its 95 % bootstrap interval, highest first, against the
    ceiling (the exact retrain's score, its interval shaded)."""
    scored = sorted((r for r in records if r.get("forgetting_score")), key=lambda r: -r["forgetting_score"]["mean"])
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(scored) + 1.4))
    if ceiling is not None and ceiling["low"] is not None:
        ax.axvspan(ceiling["low"], ceiling["high"], color="seagreen", alpha=0.2, label="exact retrain (ceiling)")
    for y, record in enumerate(scored):
        s = record["forgetting_score"]
        colour = "seagreen" if record["model"] == "oracle_b" else "black"
        ax.errorbar(s["mean"], y, xerr=[[max(0.0, s["mean"] - s["low"])], [max(0.0, s["high"] - s["mean"])]],
                    fmt="o", ms=5, color=colour, capsize=3)
    ax.set_yticks(range(len(scored)), [r["model"] for r in scored], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="per-example forgetting score (higher = closer to retraining)",
           title="Forgetting score and 95 % bootstrap interval")
    ax.grid(alpha=0.3, axis="x")
    if ceiling is not None:
        ax.legend(fontsize=7, loc="lower right")
    _save(fig, path)


def probe_figure(summary: dict, band: tuple[float, float] | None, path) -> None:
    """Probe recall on frozen features (y) vs output forget accuracy (x). The dashed line joins the original to
    the retrain: a model that truly forgets moves along it; one that only hides the class sits above the retrains'
    probe band (shaded) at the left (output forgotten, features not)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ends = [summary.get(n, {}) for n in ("original", "oracle")]
    if all(e.get("probe_recall") is not None and e.get("forget_acc") is not None for e in ends):
        ax.plot([e["forget_acc"] for e in ends], [e["probe_recall"] for e in ends], color="grey", lw=1, ls="--",
                label="original → retrain")
    if band is not None and None not in band:
        ax.axhspan(*band, color="crimson", alpha=0.15, label="retrains' probe band (95 %)")
    names = list(summary)
    for name, m in _having(summary, "forget_acc", "probe_recall"):
        ax.errorbar(m["forget_acc"], m["probe_recall"], xerr=_within(m["forget_acc"], _ci(m, "forget_acc")),
                    yerr=_within(m["probe_recall"], _ci(m, "probe_recall")), capsize=3, label=name,
                    **_style(names, name))
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="output forget accuracy",
           ylabel="probe recall of the forgotten class (frozen features)",
           title="Output vs representation (means over chains)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    _save(fig, path)


VERDICT_COLOUR = {"equivalent": "seagreen", "different": "crimson", "inconclusive": "dimgrey", "n/a": "silver"}


def difference_figure(records: list[dict], tolerances: dict[str, float], path) -> None:
    """One panel per metric: every model's difference of means to the retrains with its 95 % interval (the
    quantity the verdict tests), coloured by verdict, against the tolerance zone (shaded)."""
    retrain = next(r for r in records if r["model"] == "oracle")
    metrics = list(retrain["metrics"])
    models = [r for r in records if r["model"] != "oracle"]
    cols = min(4, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 0.22 * len(models) * rows + 1.4 * rows),
                             squeeze=False, sharey=True)
    for ax, metric in zip(axes.flat, metrics):
        tol = tolerances[metric]
        ax.axvspan(-tol, tol, color="seagreen", alpha=0.15)
        ax.axvline(0, color="grey", lw=0.8)
        for y, record in enumerate(models):
            m = record["metrics"][metric]
            d = m.get("difference")
            if d is None or d["mean"] is None:
                continue
            low = d["low"] if d["low"] is not None else -1.0  # an unbounded end (too few chains): the axis edge
            high = d["high"] if d["high"] is not None else 1.0
            ax.errorbar(d["mean"], y, xerr=[[max(0.0, d["mean"] - low)], [max(0.0, high - d["mean"])]], fmt="o",
                        ms=4, color=VERDICT_COLOUR[m["verdict"]], capsize=2)
        ax.set_title(f"{metric} (±{tol:g})", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    for ax in axes.flat[len(metrics):]:
        ax.axis("off")
    axes[0][0].set_yticks(range(len(models)), [r["model"] for r in models], fontsize=7)
    axes[0][0].invert_yaxis()
    fig.suptitle("Model minus retrains (95 % interval) against the tolerance (shaded): green equivalent, "
                 "red different, grey inconclusive", fontsize=9)
    _save(fig, path)


def epsilon_figure(records: list[dict], path, shown: float = 4.0) -> None:
    """Per method, the histogram of its forget examples' epsilons (bins of 0.5, the score's buckets); epsilons
    at or above `shown` (up to the cap, 50: perfectly separated) are gathered in the last bar."""
    methods = [r for r in records if r.get("epsilons")]
    if not methods:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no forgetting scores", ha="center")
        _save(fig, path)
        return
    cols = min(4, len(methods))
    rows = -(-len(methods) // cols)
    bins = np.arange(0, shown + 1.0, 0.5)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.2 * rows), squeeze=False, sharex=True)
    for ax, record in zip(axes.flat, methods):
        eps = np.clip(np.asarray(record["epsilons"], dtype=float), 0, shown + 0.25)
        ax.hist(eps, bins=bins, color="steelblue")
        score = record["forgetting_score"]["mean"]
        ax.set_title(f"{record['model']} (score {score:.3f})", fontsize=8)
    for ax in axes.flat[len(methods):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(f"epsilon (last bar: >= {shown:g})", fontsize=8)
    fig.suptitle("Per-example epsilon: how well a threshold test tells the method's models from the retrains",
                 fontsize=9)
    _save(fig, path)
