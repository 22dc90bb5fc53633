"""plot: figures from the evaluate stage's outputs (figure code in unlearning.plots).

plots/images/*.png      confusion matrices (rows: true digit, the forgotten one included), forget/retain trade-off,
                        relearn curves, the forgetting score with its interval per model (score.png), probe recall
                        vs output forget accuracy, every metric's difference to the retrains against its
                        tolerance (differences.png), per-example epsilons (epsilons.png)
plots/confusion/*.csv   actual/predicted pairs of the first seed, for DVC's confusion template
plots/relearn/k<K>.csv  mean relearn curves of every model for one k (step, model, forget_acc), for the
                        .dvc/plots/relearn.json template (one line per model)
plots/tradeoff.json     forget vs retain accuracy per model, for DVC's scatter template
plots/probe.json        probe recall vs output forget accuracy per model, for the .dvc/plots/models.json template
plots/relearn.csv       every mean relearn curve (step, k, model, forget_acc)
plots/training/<metric>.csv  the first chain's training curve of every model that trains (epoch, model, metric),
                        gathered from dvclive's live/<model>/plots/metrics/<metric>.tsv, for .dvc/plots/curves.json"""
from __future__ import annotations

import pandas as pd

from stages.base.common import EVAL, LIVE, METRICS, PARAMS, PLOTS, RELEARN, stage
from unlearning.core import config, io
from unlearning.plots import (confusion_figure, difference_figure, epsilon_figure, probe_figure, relearn_figure,
                              score_figure, tradeoff_figure)


def records(summary: dict, keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per model with the mean of each key (DVC plots read a list of records)."""
    return pd.DataFrame([{"model": n, **{k: s.get(k) for k in keys}} for n, s in summary.items()])


def write_records(frame: pd.DataFrame, path) -> None:
    path.write_text(frame.to_json(orient="records", indent=1))


def training_curves(models: list[str]) -> dict[str, pd.DataFrame]:
    """metric -> rows (epoch, model, metric) of every model whose first chain logged it with dvclive (the
    methods that do not train log nothing)."""
    frames: dict[str, list[pd.DataFrame]] = {}
    for name in models:
        for tsv in sorted((LIVE / name / "plots" / "metrics").glob("*.tsv")):
            curve = pd.read_csv(tsv, sep="\t").rename(columns={"step": "epoch"})  # columns step, <metric>
            frames.setdefault(tsv.stem, []).append(curve.assign(model=name)[["epoch", "model", tsv.stem]])
    return {metric: pd.concat(parts) for metric, parts in frames.items()}


@stage
def main() -> None:
    cfg = config.load(PARAMS, methods=())
    summary = io.read_json(METRICS / "summary.json")
    audit_file = io.read_json(METRICS / "audit.json")
    audits = audit_file["models"]
    predictions = pd.read_csv(EVAL / "predictions.csv", dtype={"predicted": str})
    models = [*cfg.methods, "oracle"]  # oracle_b, a second population of retrains, is in the score figures only
    relearn = pd.concat([pd.DataFrame(io.read_json(RELEARN / f"{m}.json")).assign(model=m) for m in models])
    mean_curves = relearn.groupby(["model", "k", "step"], sort=False, as_index=False)["forget_acc"].mean()
    with io.atomic_path(PLOTS) as out:
        for folder in ("images", "confusion", "relearn", "training"):
            (out / folder).mkdir(parents=True)
        for name in models:
            mine = predictions[predictions.model == name]
            confusion_figure(mine, f"{name} (pooled over {len(cfg.seeds)} chains)",
                             out / "images" / f"confusion_{name}.png")
            first_seed = mine[mine.seed == cfg.seeds[0]]
            first_seed[["actual", "predicted"]].to_csv(out / "confusion" / f"{name}.csv", index=False)
        tradeoff_figure(summary, out / "images" / "tradeoff.png")
        relearn_figure(mean_curves, out / "images" / "relearn.png")
        score_figure(audits, audit_file["ceiling"], out / "images" / "score.png")
        probe = next((r["metrics"].get("probe_recall") for r in audits if r["model"] == "oracle"), None)
        probe_figure(summary, None if probe is None else (probe["low"], probe["high"]), out / "images" / "probe.png")
        if audits:
            tolerances = {m: cfg.audit.tolerance.of(m) for m in audits[0]["metrics"]}
            difference_figure(audits, tolerances, out / "images" / "differences.png")
        epsilon_figure(audits, out / "images" / "epsilons.png")
        write_records(records(summary, ("forget_acc", "retain_acc")), out / "tradeoff.json")
        write_records(records(summary, ("forget_acc", "probe_recall")), out / "probe.json")
        mean_curves[["step", "k", "model", "forget_acc"]].to_csv(out / "relearn.csv", index=False)
        for k, curves in mean_curves.groupby("k"):
            curves[["step", "model", "forget_acc"]].to_csv(out / "relearn" / f"k{k}.csv", index=False)
        for metric, curves in training_curves(["pretrained", *models]).items():
            curves.to_csv(out / "training" / f"{metric}.csv", index=False)


if __name__ == "__main__":
    main()
