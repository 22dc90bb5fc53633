"""plot: figures from the evaluate stage's outputs (figure code in unlearning.plots and unlearning.plots_curves).

plots/score.json        forgetting score, its interval, share of the ceiling and verdict per model, for the
                        .dvc/plots/score.json template (the first plot of `dvc plots show`; ceiling: oracle_b)
plots/differences.json  every model's difference of means to the retrains per metric, its interval, the tolerance
                        and the verdict, for the .dvc/plots/differences.json template (the second plot)
plots/images/*.png      score.png (the forgetting score with its interval per model, against the ceiling),
                        differences.png (every metric's difference against its tolerance), tradeoff.png and
                        probe.png (models as points, the crowded corner enlarged), relearn.png, training.png,
                        epsilons.png (per-example epsilons)
plots/images/matrices/confusion.png  every model's confusion matrix in one image (last on the page: dvc_render
                        puts images after the Vega plots, sorted by folder)
plots/relearn/k<K>.csv  mean relearn curves of every model for one k (step, model, forget_acc), for the
                        .dvc/plots/relearn.json template (one line per model)
plots/tradeoff.json     forget vs retain accuracy per model, for the .dvc/plots/models.json template
plots/probe.json        probe recall vs output forget accuracy per model, for the same template
plots/relearn.csv       every mean relearn curve (step, k, model, forget_acc)
plots/training/<metric>.csv  the first chain's training curve of every model that trains (step, model, metric),
                        gathered from dvclive's live/<model>/plots/metrics/<metric>.tsv, for .dvc/plots/curves.json"""
from __future__ import annotations

from io import BytesIO

import pandas as pd
import torch

from stages.base.common import EVAL, LIVE, METRICS, PARAMS, PLOTS, RELEARN, parallel_map, stage
from unlearning.core import config, io
from unlearning.plots import (difference_figure, epsilon_figure, probe_figure, ranked, score_figure, tradeoff_figure,
                              verdict_of)
from unlearning.plots_curves import confusion_grid, relearn_figure, training_figure


def records(summary: dict, keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per model with the mean of each key (DVC plots read a list of records)."""
    return pd.DataFrame([{"model": n, **{k: s.get(k) for k in keys}} for n, s in summary.items()])


def write_records(frame: pd.DataFrame, path) -> None:
    path.write_text(frame.to_json(orient="records", indent=1))


def score_records(audits: list[dict]) -> list[dict]:
    """Rows of plots/score.json, highest score first: the score, its interval, its share of the ceiling, the
    verdict (passes, hides, over-forgets, fails)."""
    return [{"model": r["model"], "forgetting_score": s["mean"], "forgetting_low": s["low"],
             "forgetting_high": s["high"], "ceiling_share": r.get("ceiling_share"), "verdict": verdict_of(r)}
            for r in ranked(audits) if (s := r.get("forgetting_score")) and s["mean"] is not None]


def difference_records(audits: list[dict], tolerances: dict[str, float]) -> list[dict]:
    """Rows of plots/differences.json: model x metric, the difference of means to the retrains and its interval,
    the metric's tolerance and the verdict; models in the score's order (rank), metrics in audit.json's order
    (metric_index)."""
    return [{"model": r["model"], "rank": rank, "metric": metric, "metric_index": index, "difference": d["mean"],
             "low": d["low"], "high": d["high"], "tolerance": tolerances[metric], "verdict": m["verdict"]}
            for rank, r in enumerate(ranked(audits)) for index, (metric, m) in enumerate(r["metrics"].items())
            if (d := m.get("difference")) and d["mean"] is not None]


def training_curves(models: list[str]) -> dict[str, pd.DataFrame]:
    """metric -> rows (step, model, metric) of every model whose first chain logged it with dvclive (the
    methods that do not train log nothing)."""
    frames: dict[str, list[pd.DataFrame]] = {}
    for name in models:
        for tsv in sorted((LIVE / name / "plots" / "metrics").glob("*.tsv")):
            curve = pd.read_csv(tsv, sep="\t")  # columns step (optimiser steps so far), <metric>
            frames.setdefault(tsv.stem, []).append(curve.assign(model=name)[["step", "model", tsv.stem]])
    return {metric: pd.concat(parts) for metric, parts in frames.items()}


def draw(figure) -> bytes:
    """The PNG bytes that figure(file) saves; empty when it draws nothing. Bytes, not a file: parallel_map's tasks
    write no files (the stage writes what they return)."""
    buffer = BytesIO()
    figure(buffer)
    return buffer.getvalue()


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
    tolerances = {m: cfg.audit.tolerance.of(m) for m in audits[0]["metrics"]} if audits else {}
    intervals = {r["model"]: r["metrics"] for r in audits}  # model -> metric -> {mean, low, high, ...}
    curves = training_curves(["pretrained", *models])
    probe = intervals.get("oracle", {}).get("probe_recall")
    title = (f"Confusion matrices, pooled over {len(cfg.seeds)} chains (rows: true digit, normalised; columns: "
             "predicted output slot)")
    # plots/images/<file> -> how it is drawn (into a PNG file object), the slowest first: parallel_map hands them to
    # its two workers in this order, so the 14 s of drawing on the 2-core machine takes about half of it
    figures = {
        "matrices/confusion.png": lambda png: confusion_grid(predictions, models, title, png),
        "epsilons.png": lambda png: epsilon_figure(audits, png),
        "differences.png": lambda png: difference_figure(audits, tolerances, png) if audits else None,
        "tradeoff.png": lambda png: tradeoff_figure(summary, intervals, png),
        "probe.png": lambda png: probe_figure(summary, intervals,
                                              None if probe is None else (probe["low"], probe["high"]), png),
        "training.png": lambda png: training_figure(curves, png),
        "score.png": lambda png: score_figure(audits, audit_file["ceiling"], png),
        "relearn.png": lambda png: relearn_figure(mean_curves, png),
    }
    pngs = parallel_map(lambda name: draw(figures[name]), list(figures), torch.device("cpu"))
    with io.atomic_path(PLOTS) as out:
        for folder in ("images", "images/matrices", "relearn", "training"):
            (out / folder).mkdir(parents=True)
        for name, png in zip(figures, pngs):
            if png:
                (out / "images" / name).write_bytes(png)
        write_records(pd.DataFrame(score_records(audits)), out / "score.json")
        write_records(pd.DataFrame(difference_records(audits, tolerances)), out / "differences.json")
        write_records(records(summary, ("forget_acc", "retain_acc")), out / "tradeoff.json")
        write_records(records(summary, ("forget_acc", "probe_recall")), out / "probe.json")
        mean_curves[["step", "k", "model", "forget_acc"]].to_csv(out / "relearn.csv", index=False)
        for k, part in mean_curves.groupby("k"):
            part[["step", "model", "forget_acc"]].to_csv(out / "relearn" / f"k{k}.csv", index=False)
        for metric, frame in curves.items():
            frame.to_csv(out / "training" / f"{metric}.csv", index=False)


if __name__ == "__main__":
    main()
