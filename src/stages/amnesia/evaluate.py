"""evaluate: the judge scores the samples of every model of every (forgotten digit, chain), before and after the
relearn attack -> metrics/per_chain.csv (a row per digit, chain and model), metrics/summary.json (per digit and model:
mean over chains and its 95 % bootstrap interval; the judge's calibration) and metrics/report.md (the tables, each
method against the oracle's distribution, the targets)."""
from __future__ import annotations

import pandas as pd

from stages.amnesia.common import CLASSIFIER, METRICS, config, load_classifier, load_cvae, load_images, model_key
from stages.amnesia.report import SUMMARY_METRICS, report
from stages.base.common import parallel_map, stage
from unlearning.amnesia import evaluation, intervals
from unlearning.core import io, rng

RELEARN_METRICS = ("forget_entropy", "forget_prob")


def score(cfg, judge, model, images, digit: int, chain: int) -> dict[str, float]:
    """Sample metrics (the same z draws for every model of a chain) and test-image likelihoods, then, on the first
    relearn.chains chains, the forgotten label's sample metrics after the relearn attack with each k (NaN
    elsewhere: the intervals and verdicts leave undefined chains out)."""
    per_label = cfg.evaluate.samples_per_label
    out = evaluation.judge(judge, model, digit, per_label, rng.generator(chain, "amnesia", "judge"))
    out |= evaluation.likelihood(model, images["test_x"], images["test_y"], digit,
                                 rng.generator(chain, "amnesia", "likelihood"))
    forget_x = images["train_x"][images["train_y"] == digit]  # the attacker's pool of real images
    for k in cfg.relearn.samples:
        after = dict.fromkeys(RELEARN_METRICS, float("nan"))
        if chain < cfg.relearn.chains:
            attacked = evaluation.relearn(model, forget_x, digit, k, cfg.relearn.steps, cfg.relearn.lr,
                                          rng.generator(chain, "amnesia", "relearn", str(digit), str(k)))
            after = evaluation.forget_metrics(judge, attacked, digit, per_label,
                                              rng.generator(chain, "amnesia", "judge after relearn"))
        out |= {f"relearn_k{k}_{m}": after[m] for m in RELEARN_METRICS}
    return out


@stage
def main() -> None:
    cfg = config()
    images = load_images(cfg)
    shape, device = tuple(images["train_x"].shape[1:]), images["train_x"].device
    judge = load_classifier(cfg, shape, device)
    models = ["original", "oracle", *cfg.methods]
    items = {model_key(c, d): (d, c) for d in cfg.forget for c in range(cfg.chains)}
    for d, c in items.values():  # every input exists before any work starts
        for name in models:
            load_cvae(cfg, name, c, None if name == "original" else d, shape, device)

    def evaluate(key: str) -> list[dict]:
        digit, chain = items[key]
        rows = []
        for name in models:
            # no wall-clock seconds here: these files are committed, and a rerun must reproduce them
            model = load_cvae(cfg, name, chain, None if name == "original" else digit, shape, device)
            rows.append({"digit": digit, "chain": chain, "model": name,
                         **score(cfg, judge, model, images, digit, chain)})
        return rows

    per_chain = pd.DataFrame([row for rows in parallel_map(evaluate, list(items), device) for row in rows])
    means = intervals.model_intervals(per_chain, rng.generator(0, "amnesia", "bootstrap"))
    verdicts = intervals.versus_oracle(per_chain, list(cfg.methods), cfg.evaluate.tolerance,
                                       rng.generator(0, "amnesia", "permutation"))
    judge_info = io.read_json(CLASSIFIER.with_suffix(".json"))
    summary = {"judge": {"test_acc": round(judge_info["test_acc"], 6),
                         **{f"{kind}_{k}": round(v, 6) for kind, out in judge_info["no_digit"].items()
                            for k, v in out.items()}}}
    for r in means[means.metric.isin(SUMMARY_METRICS)].itertuples():
        block = summary.setdefault(f"digit{r.digit}", {}).setdefault(r.model, {})
        block |= {r.metric: round(r.mean, 6), f"{r.metric}_low": round(r.low, 6), f"{r.metric}_high": round(r.high, 6)}
    io.write_json(METRICS / "summary.json", summary)
    with io.atomic_path(METRICS / "per_chain.csv") as tmp:
        per_chain.to_csv(tmp, index=False, float_format="%.6g")
    io.write_text(METRICS / "report.md", report(cfg, per_chain, means, verdicts, judge_info))


if __name__ == "__main__":
    main()
