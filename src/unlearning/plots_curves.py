"""Matplotlib figures of curves and predictions (PNG): the relearn attack's mean curves, the first chain's training
curves and the confusion matrices, one per model or all in one grid. Models keep the styles of unlearning.plots."""
from __future__ import annotations

import pandas as pd

from unlearning.plots import REFERENCE, REFERENCE_STYLE, model_styles, placeholder, plt, save

DASHES = ("-", "--", ":", "-.")


def _line_style(styles: dict, name: str, points: int) -> dict:
    """A model's curve: its colour, a dash pattern (i % 4) and its marker every few points, so that curves of one
    colour family stay apart; the retrain thick, black and dashed."""
    if name == REFERENCE:
        return dict(color="black", ls="--", lw=2.5, zorder=5, label="retrain (reference)")
    s = styles[name]
    index = sorted(n for n in styles if n not in REFERENCE_STYLE).index(name)  # its colour's index
    return dict(color=s["color"], marker=s["marker"], ms=4, ls=DASHES[index % len(DASHES)], lw=1.2,
                markevery=max(1, points // 6), label=name)


def relearn_figure(curves: pd.DataFrame, path) -> None:
    """curves: mean over attack chains, columns model, k, step, forget_acc; one panel per k."""
    ks = sorted(curves.k.unique())
    names = list(dict.fromkeys(curves.model))
    styles = model_styles(names)
    fig, axes = plt.subplots(1, len(ks), figsize=(4.6 * len(ks) + 2.2, max(3.8, 0.19 * len(names) + 0.8)),
                             squeeze=False, sharey=True)
    for ax, k in zip(axes[0], ks):
        for name, curve in curves[curves.k == k].groupby("model", sort=False):
            ax.plot(curve.step, curve.forget_acc, **_line_style(styles, name, len(curve)))
        ax.set(title=f"relearn with k={k} forget samples", xlabel="attack step", ylabel="forget accuracy")
        ax.grid(alpha=0.3)
    handles, labels = zip(*sorted(zip(*axes[0][0].get_legend_handles_labels()),
                                  key=lambda hl: (hl[1] == "retrain (reference)", hl[1])))
    right = 1 - 2.0 / fig.get_size_inches()[0]
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(right, 0.5))
    save(fig, path, rect=(0, 0, right, 1))


SCRATCH = ("pretrained", REFERENCE)  # trained from scratch: the start of every method, and the target
VAL = ("val_forget_acc", "val_new_acc", "val_retain_acc")


def training_figure(curves: dict[str, pd.DataFrame], path) -> None:
    """curves: metric -> rows (step, model, <metric>) of the first chain, train.POINTS_PER_FIT per fit a model ran,
    at the optimiser steps so far (dvclive's step). Top: pretraining and the retrain from scratch, against the
    step. Below, one row per method and validation accuracy: where the method starts (the pretrained model's last
    value, grey ring), its value at each logged point (small dots, joined in order) and after its last step (its
    marker), against the retrain's last value (the target, black dashed). The methods' fits are short and of very
    different lengths, so their path is drawn along the accuracy axis rather than against the step."""
    metrics = [m for m in (*VAL, "loss") if m in curves] + [m for m in curves if m not in (*VAL, "loss")]
    if not metrics:
        return placeholder("no training curves", path)
    names = list(dict.fromkeys(n for c in curves.values() for n in c.model))
    styles = model_styles(names)
    methods = sorted(n for n in names if n not in SCRATCH)
    val = [m for m in VAL if m in curves]
    fig = plt.figure(figsize=(3.3 * max(len(metrics), len(val)), 3.0 + 0.24 * len(methods) + 1.6),
                     layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.0, 0.24 * len(methods) + 1.6])
    for ax, metric in zip(top.subplots(1, len(metrics), squeeze=False)[0], metrics):
        for name, curve in curves[metric].groupby("model", sort=False):
            if name in SCRATCH:
                ax.plot(curve.step, curve[metric], **(dict(color="black", ls="--", lw=2, label="retrain")
                                                          if name == REFERENCE else dict(color="grey", lw=2,
                                                                                         label=name)))
        ax.set(title=metric, xlabel="optimiser step")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    top.axes[0].legend(fontsize=7)
    top.suptitle("Trained from scratch (first chain, validation split; loss: the training objective)", fontsize=10)
    axes = bottom.subplots(1, max(1, len(val)), squeeze=False, sharey=True)[0]
    for ax, metric in zip(axes, val):
        frame = curves[metric]
        ends = {n: c[metric].iloc[-1] for n, c in frame.groupby("model") if n in SCRATCH}
        if REFERENCE in ends:
            ax.axvline(ends[REFERENCE], color="black", ls="--", lw=1.2, label="target: the retrain's last value")
        for y, name in enumerate(methods):
            path_ = frame.loc[frame.model == name, metric].tolist()
            if not path_:
                continue
            start = [ends["pretrained"]] if "pretrained" in ends else []
            ax.plot(start + path_, [y] * (len(start) + len(path_)), color=styles[name]["color"], lw=0.8, alpha=0.6)
            ax.plot(path_, [y] * len(path_), ls="none", marker=".", ms=4, color=styles[name]["color"])
            if start:
                ax.plot(start, [y], ls="none", marker="o", ms=7, mfc="none", mec="grey",
                        label=None if y else "start: the pretrained model")
            ax.plot(path_[-1:], [y], ls="none", marker=styles[name]["marker"], ms=7, color=styles[name]["color"])
        ax.set(title=metric, xlim=(-0.03, 1.03), xlabel="accuracy")
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(labelsize=8)
    counts = {n: len(curves[val[0]].query("model == @n")) if val else 0 for n in methods}
    axes[0].set_yticks(range(len(methods)), [f"{n} ({counts[n]})" for n in methods])
    axes[0].set_ylim(len(methods) - 0.5, -0.5)
    bottom.legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=2)
    bottom.suptitle("Unlearning, each method from the pretrained model (first chain; in brackets: points logged): "
                    "start, every logged point, last", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def _matrix(ax, frame: pd.DataFrame, title: str, fontsize: float, shown: float = 0.005):
    """Row-normalised confusion matrix of frame (actual, predicted) on ax, cells >= `shown` written; says so when
    there is nothing. Returns the image (None when empty)."""
    counts = pd.crosstab(frame["actual"], frame["predicted"], normalize="index")
    ax.set_title(title, fontsize=fontsize + 3)
    if counts.empty:  # no prediction to show: the model diverged on every chain (the report says so)
        ax.text(0.5, 0.5, "no predictions: diverged on every chain", ha="center", va="center")
        ax.set_axis_off()
        return None
    image = ax.imshow(counts.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(counts.columns)), counts.columns, rotation=45, fontsize=fontsize + 1)
    ax.set_yticks(range(len(counts.index)), counts.index, fontsize=fontsize + 1)
    for (i, j), value in pd.DataFrame(counts.to_numpy()).stack().items():
        if value >= shown:
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=fontsize,
                    color="white" if value > 0.6 else "black")
    return image


def confusion_grid(predictions: pd.DataFrame, models: list[str], title: str, path, cols: int = 5) -> None:
    """Every model's confusion matrix in one image (pooled over chains, rows normalised): the retrain and the
    original first, then the methods alphabetically. Rows: true digit (the forgotten one included), columns: the
    predicted output slot; shares under 0.05 left blank."""
    order = [m for m in (REFERENCE, "original") if m in models] + sorted(m for m in models
                                                                          if m not in (REFERENCE, "original"))
    rows = -(-len(order) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 3.0 * rows + 0.4), squeeze=False)
    by_model = dict(tuple(predictions.groupby("model", sort=False)))  # one pass: a filter per model took 0.5 s
    empty = predictions.iloc[:0]
    for ax, name in zip(axes.flat, order):
        _matrix(ax, by_model.get(name, empty), "retrain" if name == REFERENCE else name, 5.5, 0.05)
    for ax in axes.flat[len(order):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    save(fig, path, rect=(0, 0, 1, 0.98))
