"""How far is "within 1 point of the oracle"? The noise floor of the distance to the retrain oracle.

    PYTHONPATH=src python bench/oracle_noise.py                       # 8 more retrains of the oracle per seed
    PYTHONPATH=src python bench/oracle_noise.py --draws 4 --methods boundary_shrink salun

The pipeline compares every model with one oracle per seed, and the 3-seed mean of that comparison is one draw
of a random quantity: the oracle's own initialisation and batch order are random. This script retrains the
oracle with the pipeline's recipe (cfg.train) but with `--draws` other initialisations and batch orders per seed
(draw d: model seed derived from (seed, "oracle draw d"), generator (seed, "oracle", "draw d")) and compares
each retrain with the pipeline's oracle exactly as the issue's target does: per draw, the mean over the seeds of
model - oracle on forget / retain / new-class test accuracy, and the largest of the three absolute values
(`max_dist`). A second retrain is the best any unlearning method can hope to be, so the share of its draws
with max_dist <= 0.01 says how often an exact retrain passes "within 1 point". `--methods` runs the named
methods the same way, draw 0 with the unlearn stage's own generator and draw d with (seed, "unlearn", name,
"draw d"), from the pipeline's pretrained model of each seed."""
from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from sweep_methods import open_experiment, reference
from unlearning import config, rng
from unlearning.methods import METHODS
from unlearning.metrics import accuracies

KEYS = ("forget_acc", "retain_acc", "new_acc")
TOLERANCE = 0.01  # the "within 1 point"


def unlearned(exp, seed: int, draw: int, name: str, pretrained) -> torch.nn.Module:
    names = ("unlearn", name) if draw == 0 else ("unlearn", name, f"draw {draw}")
    return METHODS[name].unlearn(copy.deepcopy(pretrained), exp.splits(seed), exp.cfg.methods[name],
                                 rng.generator(seed, *names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--draws", type=int, default=8, help="retrains (and method runs) per seed")
    parser.add_argument("--methods", nargs="*", default=[], choices=sorted(METHODS))
    args = parser.parse_args()
    if args.draws < 1:
        parser.error("--draws must be >= 1")
    torch.set_num_threads(1)  # the stages' setting
    cfg = config.load(args.params)
    for name in args.methods:
        if name not in cfg.methods:
            raise SystemExit(f"error: params file {args.params} has no block for method {name!r}")
    with tempfile.TemporaryDirectory() as workdir:  # used only when `dvc repro download` has not run
        exp = open_experiment(cfg, Path(workdir))
    tests = {seed: exp.splits(seed, "test") for seed in cfg.seeds}
    oracles = {seed: accuracies(reference(exp, seed, "oracle"), tests[seed]) for seed in cfg.seeds}
    pretrained = {seed: reference(exp, seed, "pretrained") for seed in cfg.seeds} if args.methods else {}
    candidates = {"retrain": lambda seed, draw: reference(exp, seed, "oracle", draw + 1)}
    for name in args.methods:
        candidates[name] = lambda seed, draw, name=name: unlearned(exp, seed, draw, name, pretrained[seed])
    rows = []
    for label, make in candidates.items():
        for draw in range(args.draws):
            start = time.perf_counter()
            diffs = {key: [] for key in KEYS}
            for seed in cfg.seeds:
                acc = accuracies(make(seed, draw), tests[seed])
                for key in KEYS:
                    diffs[key].append(acc[key] - oracles[seed][key])
            row = {"model": label, "draw": draw, **{key: sum(v) / len(v) for key, v in diffs.items()}}
            row["max_dist"] = max(abs(row[key]) for key in KEYS)
            rows.append(row)
            print(f"{label:16s} draw {draw}: max_dist {row['max_dist']:.3f} ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("model", sort=False).agg(
        draws=("draw", "size"), **{f"mean_{key}": (key, "mean") for key in KEYS},
        mean_max_dist=("max_dist", "mean"), worst_max_dist=("max_dist", "max"),
        within_1_point=("max_dist", lambda d: f"{int((d <= TOLERANCE + 1e-9).sum())}/{len(d)}"))
    print("\nPer draw: mean over seeds of model - oracle accuracy\n")
    print(table.to_markdown(index=False, floatfmt="+.3f"))
    print(f"\nSummary ({cfg.data.name}, {cfg.scenario.kind}, seeds {list(cfg.seeds)})\n")
    print(summary.reset_index().to_markdown(index=False, floatfmt="+.3f"))


if __name__ == "__main__":
    main()
