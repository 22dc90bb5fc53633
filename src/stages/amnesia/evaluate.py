"""evaluate: the judge classifier scores the samples of every model of every seed, before and after the relearn
attack -> metrics/summary.json (mean and 95 % CI half-width per model and metric, for `dvc metrics`),
metrics/per_seed.csv and metrics/report.md."""
from __future__ import annotations

import pandas as pd

from stages.amnesia.common import CLASSIFIER, METRICS, config, load_classifier, load_cvae, load_images, model_path
from stages.amnesia.report import report
from stages.base.common import stage
from unlearning.core import io, rng
from unlearning.amnesia import evaluation
from unlearning.metrics import aggregate, finite_or_none

RELEARN_METRICS = ("forget_entropy", "forget_prob", "retained_acc")


def score(cfg, judge, model, images, seed: int) -> dict[str, float]:
    """Sample metrics (same z draws for every model of a seed) and test-image likelihoods."""
    common = (cfg.forget, cfg.retained, cfg.evaluate.samples_per_label)
    out = evaluation.judge(judge, model, *common, rng.generator(seed, "amnesia", "judge"))
    out |= evaluation.likelihood(model, images["test_x"], images["test_y"], cfg.forget,
                                 rng.generator(seed, "amnesia", "likelihood"))
    forget_x = images["train_x"][images["train_y"] == cfg.forget]  # the attacker's pool of real images
    for k in cfg.relearn.samples:
        attacked = evaluation.relearn(model, forget_x, cfg.forget, k, cfg.relearn.steps, cfg.relearn.lr,
                                      rng.generator(seed, "amnesia", "relearn", str(k)))
        after = evaluation.judge(judge, attacked, *common, rng.generator(seed, "amnesia", "judge"))
        out |= {f"relearn_k{k}_{m}": after[m] for m in RELEARN_METRICS}
    return out


@stage
def main() -> None:
    cfg = config()
    images = load_images(cfg)
    shape, device = tuple(images["train_x"].shape[1:]), images["train_x"].device
    judge = load_classifier(cfg, shape, device)
    models = ["original", "oracle", *cfg.methods]
    rows = []
    for seed in cfg.seeds:
        for name in models:
            model = load_cvae(cfg, name, seed, shape, device)
            seconds = io.read_json(model_path(name, seed, ".json"))["seconds"]
            rows.append({"model": name, "seed": seed, **score(cfg, judge, model, images, seed), "runtime_s": seconds})
    per_seed = pd.DataFrame(rows)
    table = aggregate(per_seed)
    summary = {name: {} for name in models}
    for r in table.itertuples():
        summary[r.model][r.metric] = finite_or_none(r.mean)
        summary[r.model][f"{r.metric}_ci95"] = finite_or_none(r.ci95)
    reference = evaluation.judge_reference(judge, shape, cfg.forget, 1000, rng.generator(0, "amnesia", "reference"))
    summary["judge"] = {k: finite_or_none(v) for k, v in
                        {"test_acc": io.read_json(CLASSIFIER.with_suffix(".json"))["test_acc"], **reference}.items()}
    io.write_json(METRICS / "summary.json", summary)
    with io.atomic_path(METRICS / "per_seed.csv") as tmp:
        per_seed.to_csv(tmp, index=False, float_format="%.6g")
    io.write_text(METRICS / "report.md", report(cfg, table, models, summary["judge"]))


if __name__ == "__main__":
    main()
