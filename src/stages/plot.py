"""plot: figures from the evaluate stage's outputs.

plots/images/*.png      confusion matrices (rows: true digit, the forgotten one included), trade-off, relearn
plots/confusion/*.csv   actual/predicted pairs of the first seed, for DVC's confusion template
plots/tradeoff.json     forget vs retain accuracy per model, for DVC's scatter template
plots/relearn.csv       mean relearn curves (step, k, model, forget_acc)"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from stages.common import EVAL, METRICS, PARAMS, PLOTS, RELEARN, stage  # noqa: E402
from unlearning import config, io  # noqa: E402


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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tradeoff_figure(summary: dict, path) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, m in summary.items():
        is_oracle = name == "oracle"
        ax.errorbar(m["forget_acc"], m["retain_acc"], xerr=m.get("forget_acc_ci95"), yerr=m.get("retain_acc_ci95"),
                    fmt="*" if is_oracle else "o", ms=14 if is_oracle else 6, color="crimson" if is_oracle else None,
                    capsize=3, label=name)
    ax.set(xlabel="forget accuracy (lower = more forgotten)", ylabel="retain accuracy",
           title="Forgetting vs retaining (mean ± 95 % CI)")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@stage
def main() -> None:
    cfg = config.load(PARAMS)
    summary = io.read_json(METRICS / "summary.json")
    predictions = pd.read_csv(EVAL / "predictions.csv", dtype={"predicted": str})
    models = [*cfg.methods, "oracle"]
    relearn = pd.concat([pd.DataFrame(io.read_json(RELEARN / f"{m}.json")).assign(model=m) for m in models])
    mean_curves = relearn.groupby(["model", "k", "step"], sort=False, as_index=False)["forget_acc"].mean()
    with io.atomic_path(PLOTS) as out:
        (out / "images").mkdir(parents=True)
        (out / "confusion").mkdir()
        for name in models:
            mine = predictions[predictions.model == name]
            confusion_figure(mine, f"{name} (pooled over {len(cfg.seeds)} seed(s))",
                             out / "images" / f"confusion_{name}.png")
            first_seed = mine[mine.seed == cfg.seeds[0]]
            first_seed[["actual", "predicted"]].to_csv(out / "confusion" / f"{name}.csv", index=False)
        tradeoff_figure(summary, out / "images" / "tradeoff.png")
        relearn_figure(mean_curves, out / "images" / "relearn.png")
        points = [{"model": n, "forget_acc": s["forget_acc"], "retain_acc": s["retain_acc"]}
                  for n, s in summary.items()]
        (out / "tradeoff.json").write_text(pd.DataFrame(points).to_json(orient="records", indent=1))
        mean_curves[["step", "k", "model", "forget_acc"]].to_csv(out / "relearn.csv", index=False)


if __name__ == "__main__":
    main()
