"""evaluate: every model of every seed against the oracle of the same seed.

Writes metrics/summary.json (one entry per model: mean and 95 % CI half-width of each metric, for
`dvc metrics`), metrics/per_seed.csv, metrics/report.md, and eval/predictions.csv (for the plot stage)."""
from __future__ import annotations

import pandas as pd

from stages.common import (EVAL, METRICS, PARAMS, PRETRAINED, RELEARN, model_dir, open_experiment,
                           seed_file, stage)
from unlearning import config, io
from unlearning.attacks.relearn import steps_to_reach
from unlearning.methods import METHODS
from unlearning.metrics import ACCURACIES, accuracies, agreement, aggregate, finite_or_none
from unlearning.splits import concat
from unlearning.train import predict

# A method "relearns" once its forget accuracy is back to this share of the original model's.
RELEARN_LEVEL = 0.95


def relearn_metrics(curves: pd.DataFrame, oracle: pd.DataFrame, original_forget_acc: float,
                    budget: int) -> dict[str, float]:
    """curves / oracle: one seed's relearn rows of a model and of the oracle -> per k, the forget accuracy
    after the whole budget and the relearn-time ratio (model's steps to 95 % of the original / oracle's)."""
    out = {}
    level = RELEARN_LEVEL * original_forget_acc
    for k, curve in curves.groupby("k"):
        oracle_curve = oracle[oracle.k == k].to_dict("records")
        out[f"relearn_acc_k{k}"] = curve.forget_acc.iloc[-1]
        mine = steps_to_reach(curve.to_dict("records"), level, budget)
        theirs = steps_to_reach(oracle_curve, level, budget)
        out[f"relearn_ratio_k{k}"] = mine / max(theirs, 1)
    return out


def slot_names(scenario: config.ScenarioConfig) -> list[str]:
    """Readable class name of every output slot; the reused slot reads 'old→new'."""
    names = [str(c) for c in sorted(scenario.pretrain_classes)]
    names[scenario.slot(scenario.forget)] = f"{scenario.forget}→{scenario.learn}"
    return names


def report(table: pd.DataFrame, models: list[str], cfg: config.Config) -> str:
    """Markdown: mean ± 95 % CI per model (rows) and metric (columns)."""
    cell = table.assign(text=[
        f"{m:.3f}" if pd.isna(c) else f"{m:.3f} ± {c:.3f}" for m, c in zip(table["mean"], table["ci95"])])
    wide = cell.pivot(index="model", columns="metric", values="text").reindex(models)
    columns = [c for c in [*ACCURACIES, "oracle_agreement", "runtime_s", "speedup"] if c in wide.columns]
    columns += sorted(c for c in wide.columns if c.startswith("relearn_"))
    hiding = [m for m in models if getattr(METHODS.get(m), "HIDING", False)]
    lines = [
        f"# Unlearning report: {cfg.data.name}, forget {cfg.scenario.forget}, learn {cfg.scenario.learn}",
        "",
        f"Mean ± 95 % CI half-width over {len(cfg.seeds)} seed(s) {list(cfg.seeds)}; every model is compared "
        "with the retrain oracle of its own seed. forget_acc: share of forgotten-class test images still "
        "predicted in the old slot; relearn_acc_kK: forget_acc after the relearn attack with K samples; "
        "relearn_ratio_kK: the model's steps to relearn divided by the oracle's (1 = as hard as never learned).",
        "",
        wide[columns].reset_index().to_markdown(index=False),
        "",
    ]
    if hiding:
        lines.append(f"Hiding, not unlearning (features untouched, output masked): {', '.join(hiding)}.")
    return "\n".join(lines) + "\n"


@stage
def main() -> None:
    cfg = config.load(PARAMS)
    exp = open_experiment(cfg)
    models = [*cfg.methods, "oracle"]
    names = slot_names(cfg.scenario)
    rows, predictions = [], []
    for seed in cfg.seeds:
        test = exp.evaluation(seed)
        oracle = exp.load_model(seed_file(model_dir("oracle"), seed, ".pt"), seed)
        original = exp.load_model(seed_file(PRETRAINED, seed, ".pt"), seed)
        original_forget = accuracies(original, test)["forget_acc"]
        oracle_seconds = io.read_json(seed_file(model_dir("oracle"), seed, ".json"))["seconds"]
        oracle_curves = pd.DataFrame(io.read_json(RELEARN / "oracle.json"))
        # every test image whose class either model family knows, with its dataset label, for confusion plots
        labels = exp.tensors["test_y"]
        keep = pd.Series(labels.numpy()).isin(cfg.scenario.known_classes).to_numpy()
        for name in models:
            model = oracle if name == "oracle" else exp.load_model(seed_file(model_dir(name), seed, ".pt"), seed)
            seconds = io.read_json(seed_file(model_dir(name), seed, ".json"))["seconds"]
            curves = pd.DataFrame(io.read_json(RELEARN / f"{name}.json"))
            row = {"model": name, "seed": seed, **accuracies(model, test),
                   "oracle_agreement": agreement(model, oracle, test),
                   "runtime_s": seconds, "speedup": oracle_seconds / max(seconds, 1e-9),
                   **relearn_metrics(curves[curves.seed == seed], oracle_curves[oracle_curves.seed == seed],
                                     original_forget, cfg.relearn.steps)}
            rows.append(row)
            predicted = predict(model, exp.tensors["test_x"][keep]).argmax(1).cpu().numpy()
            predictions.append(pd.DataFrame({"model": name, "seed": seed, "actual": labels.numpy()[keep],
                                             "predicted": [names[p] for p in predicted]}))
    per_seed = pd.DataFrame(rows)
    table = aggregate(per_seed)
    summary = {name: {} for name in models}
    for r in table.itertuples():
        summary[r.model][r.metric] = finite_or_none(r.mean)
        summary[r.model][f"{r.metric}_ci95"] = finite_or_none(r.ci95)
    io.write_json(METRICS / "summary.json", summary)
    with io.atomic_path(METRICS / "per_seed.csv") as tmp:
        per_seed.to_csv(tmp, index=False, float_format="%.6g")
    io.write_text(METRICS / "report.md", report(table, models, cfg))
    with io.atomic_path(EVAL / "predictions.csv") as tmp:
        pd.concat(predictions).to_csv(tmp, index=False)


if __name__ == "__main__":
    main()
