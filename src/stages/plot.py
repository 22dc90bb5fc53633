"""plot: figures from the evaluate stage's outputs (figure code in unlearning.plots).

plots/images/*.png      confusion matrices (rows: true digit, the forgotten one included), forget/retain trade-off,
                        relearn curves, gap to the oracle vs speed-up, probe recall vs output forget accuracy,
                        every metric against the retrain band (bands.png), per-example epsilons (epsilons.png)
plots/confusion/*.csv   actual/predicted pairs of the first seed, for DVC's confusion template
plots/relearn/k<K>.csv  mean relearn curves of every model for one k (step, model, forget_acc), for the
                        .dvc/plots/relearn.json template (one line per model)
plots/tradeoff.json     forget vs retain accuracy per model, for DVC's scatter template
plots/gap_speedup.json  gap to the oracle vs log10 speed-up per model    } for the .dvc/plots/models.json
plots/probe.json        probe recall vs output forget accuracy per model } template (one colour per model)
plots/relearn.csv       every mean relearn curve (step, k, model, forget_acc)
plots/training/<metric>.csv  the first chain's training curve of every model that trains (epoch, model, metric),
                        gathered from dvclive's live/<model>/plots/metrics/<metric>.tsv, for .dvc/plots/curves.json"""
from __future__ import annotations

import pandas as pd

from stages.base.common import EVAL, LIVE, METRICS, PARAMS, PLOTS, RELEARN, stage
from unlearning.core import config, io
from unlearning.plots import (band_figure, confusion_figure, epsilon_figure, gap_speed_figure, log10, probe_figure,
                              relearn_figure, tradeoff_figure)


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
    audits = io.read_json(METRICS / "audit.json")["models"]
    predictions = pd.read_csv(EVAL / "predictions.csv", dtype={"predicted": str})
    models = [*cfg.methods, "oracle"]
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
        gap_speed_figure(summary, out / "images" / "gap_speedup.png")
        probe = next((r["metrics"].get("probe_recall") for r in audits if r["model"] == "oracle"), None)
        probe_figure(summary, None if probe is None else (probe["low"], probe["high"]), out / "images" / "probe.png")
        if audits:
            band_figure(audits, out / "images" / "bands.png")
        epsilon_figure(audits, out / "images" / "epsilons.png")
        write_records(records(summary, ("forget_acc", "retain_acc")), out / "tradeoff.json")
        gap = records(summary, ("speedup", "gap_to_oracle")).dropna(subset=["speedup"])  # models that train
        write_records(gap.assign(speedup_log10=log10(gap.speedup))[["model", "speedup_log10", "gap_to_oracle"]],
                      out / "gap_speedup.json")
        write_records(records(summary, ("forget_acc", "probe_recall")), out / "probe.json")
        mean_curves[["step", "k", "model", "forget_acc"]].to_csv(out / "relearn.csv", index=False)
        for k, curves in mean_curves.groupby("k"):
            curves[["step", "model", "forget_acc"]].to_csv(out / "relearn" / f"k{k}.csv", index=False)
        for metric, curves in training_curves(["pretrained", *models]).items():
            curves.to_csv(out / "training" / f"{metric}.csv", index=False)


if __name__ == "__main__":
    main()
