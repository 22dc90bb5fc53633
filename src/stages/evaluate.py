"""evaluate: every model of every seed against the oracle of the same seed: output accuracies, distance to the
oracle, membership inference, representation probe, relearn attack, and the gap to the oracle that ranks them.

Writes metrics/summary.json (one flat entry per model: each metric's mean and its 95 % CI half-width as
<metric>_ci95, for `dvc metrics`), metrics/per_seed.csv, metrics/report.md, and eval/predictions.csv (for the
plot stage)."""
from __future__ import annotations

import pandas as pd
import torch

from stages.common import (EVAL, METRICS, PARAMS, PRETRAINED, RELEARN, model_dir, open_experiment,
                           parallel_map, seed_file, stage)
from unlearning import config, io
from unlearning.evaluation import GAP_METRICS, SeedReference, model_metrics, relearn_metrics
from unlearning.methods import METHODS
from unlearning.metrics import accuracies, aggregate, finite_or_none, gap_to_oracle, over_forgetting
from unlearning.report import report
from unlearning.train import predict


def slot_names(scenario: config.ScenarioConfig) -> list[str]:
    """Readable class name of every output slot; a reused slot reads 'old→new'."""
    names = [str(c) for c in sorted(scenario.pretrain_classes)]
    if scenario.learn is not None:
        names[scenario.slot(scenario.forget)] = f"{scenario.forget}→{scenario.learn}"
    return names


@stage
def main() -> None:
    # Hundreds of small inference ops on small models: with more than one intra-op thread, each op waits on thread
    # hand-offs: on a busy 2-core machine this stage took 27 s instead of 15 s on mnist-5k.
    torch.set_num_threads(1)
    cfg = config.load(PARAMS)
    exp = open_experiment(cfg)
    models = [*cfg.methods, "oracle"]
    names = slot_names(cfg.scenario)
    curves = {name: pd.DataFrame(io.read_json(RELEARN / f"{name}.json")) for name in models}  # every seed's attacks

    def evaluate_seed(seed: int) -> tuple[list[dict], list[pd.DataFrame]]:
        rows, predictions = [], []
        oracle = exp.load_model(seed_file(model_dir("oracle"), seed, ".pt"), seed)
        original = exp.load_model(seed_file(PRETRAINED, seed, ".pt"), seed)
        ref = SeedReference.build(seed, exp.splits(seed, "train"), exp.splits(seed, "test"), exp.evaluation(seed),
                                  oracle, original)
        original_forget = accuracies(original, ref.scored)["forget_acc"]
        oracle_seconds = io.read_json(seed_file(model_dir("oracle"), seed, ".json"))["seconds"]
        # every test image whose class either model family knows, with its dataset label, for confusion plots
        labels = exp.tensors["test_y"]
        keep = torch.isin(labels, torch.tensor(cfg.scenario.known_classes))  # bool [N_test]
        for name in models:
            model = oracle if name == "oracle" else exp.load_model(seed_file(model_dir(name), seed, ".pt"), seed)
            seconds = io.read_json(seed_file(model_dir(name), seed, ".json"))["seconds"]
            row = {"model": name, "seed": seed, **model_metrics(model, ref),
                   "runtime_s": seconds, "speedup": oracle_seconds / max(seconds, 1e-9),
                   **relearn_metrics(curves[name][curves[name].seed == seed],
                                     curves["oracle"][curves["oracle"].seed == seed], original_forget,
                                     cfg.relearn.steps)}
            rows.append(row)
            predicted = predict(model, exp.tensors["test_x"][keep]).argmax(1).cpu().numpy()
            predictions.append(pd.DataFrame({"model": name, "seed": seed, "actual": labels[keep].numpy(),
                                             "predicted": [names[p] for p in predicted]}))
        return rows, predictions

    per_seed_results = parallel_map(evaluate_seed, cfg.seeds, exp.device)
    rows = [row for seed_rows, _ in per_seed_results for row in seed_rows]
    predictions = [frame for _, seed_frames in per_seed_results for frame in seed_frames]
    per_seed = pd.DataFrame(rows)
    per_seed.insert(2, "gap_to_oracle", gap_to_oracle(per_seed, GAP_METRICS))
    per_seed.insert(per_seed.columns.get_loc("forget_acc") + 1, "over_forget", over_forgetting(per_seed))
    table = aggregate(per_seed)
    summary = {name: {} for name in models}
    for r in table.itertuples():
        summary[r.model][r.metric] = finite_or_none(r.mean)
        summary[r.model][f"{r.metric}_ci95"] = finite_or_none(r.ci95)
    io.write_json(METRICS / "summary.json", summary)
    with io.atomic_path(METRICS / "per_seed.csv") as tmp:
        per_seed.to_csv(tmp, index=False, float_format="%.6g")
    declared_hiding = [m for m in cfg.methods if getattr(METHODS.get(m), "HIDING", False)]
    io.write_text(METRICS / "report.md", report(table, models, cfg, declared_hiding))
    with io.atomic_path(EVAL / "predictions.csv") as tmp:
        pd.concat(predictions).to_csv(tmp, index=False)


if __name__ == "__main__":
    main()
