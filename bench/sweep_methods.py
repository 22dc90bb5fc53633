"""Small hyperparameter sweep of the method zoo on the default experiment (mean over a few chains), against the
retrain of each chain, scored
on the validation split (data.validation_fraction of the training split): tuning never reads the test split, and
the experiment it opens does not even hold it.

    PYTHONPATH=src python bench/sweep_methods.py                  # the whole grid below, chain 0
    PYTHONPATH=src python bench/sweep_methods.py --chains 4       # ... averaged over chains 0-3
    PYTHONPATH=src python bench/sweep_methods.py --defaults --repeat 3   # params.yaml's blocks, timed 3x
    PYTHONPATH=src python bench/sweep_methods.py --methods ssd scrub

Trains the pretrained model and the oracle of the seed exactly as the pretrain/oracle stages do, then runs
every grid point on a fresh copy of the pretrained model with the generator the unlearn stage would use, and
prints one markdown table: validation accuracies (forget / retain / new), the method's wall and CPU seconds, and
`speedup`, the retrain's CPU seconds (timed in the same run, its row) over the method's.
Timings are for this machine under its current load; compare rows of one run, not across runs. On a shared,
busy machine two torch threads spin-wait for each other and inflate even CPU seconds: `--threads 1` avoids it."""
from __future__ import annotations

import argparse
import copy
import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from unlearning import overlay
from unlearning.core import config, data, rng
from unlearning.core.experiment import Experiment
from unlearning.methods import METHODS
from unlearning.metrics import accuracies
from unlearning.core.train import Diverged, fit

# method -> grid points (overrides of its params.yaml block) on the method's key knobs
GRID = {
    "mi_regularizer": [{"gamma": g} for g in (1.0, 2.0, 3.0, 4.0, 8.0, 16.0)] + [{"gamma": 4.0, "epochs": 3}],
    "ewc": [{"anchor": a} for a in (1e2, 1e3, 1e4, 1e5)],
    "neggrad_plus": [{}] + [{"alpha": a} for a in (0.5, 0.8, 0.9)] + [{"alpha": 0.95, "epochs": 3}],
    "neggrad": [{}, {"lr": 0.03}, {"momentum": 0.9}],
    "cf_k": [{"lr": r} for r in (0.01, 0.03, 0.1)] + [{"epochs": 1}],
    "salun_rl": [{"lr": r} for r in (0.003, 0.01, 0.03)] + [{"epochs": 1}],
    "l1_sparse": [{"l1": g} for g in (1e-4, 5e-4, 2e-3)] + [{"epochs": e} for e in (1, 3)],
    "salun": [{}, {"fraction": 0.3}],
    "scrub": [{}, {"kl_weight": 0.5, "ce_weight": 1.0, "weight_decay": 0.0}],
    "eu_k": [{}, {"epochs": 1}, {"lr": 0.003}],
    "fisher_forgetting": [{"alpha": a} for a in (1e-6, 1e-5, 1e-4, 1e-3)],
    "bad_teacher": [{}, {"lr": 1e-3}, {"lr": 1e-3, "epochs": 3}],
    "scrub_r": [{}],
    "boundary_expanding": [{}, {"lr": 1e-4}, {"lr": 1e-3, "epochs": 1}],
    "npo": [{}, {"beta": 1.0}, {"retain_weight": 0.0}],
    "ssd": [{"selection": a, "dampening": d} for a, d in ((10.0, 1.0), (5.0, 1.0))] + [{"batch_size": 32}],
    "boundary_shrink": [{"lr": r} for r in (1e-5, 1e-4, 1e-3)] + [{"lr": 1e-3, "epochs": 1}],
}
# run once at their params.yaml settings: the runtime yardstick of the existing pipeline
REFERENCES = ("finetune", "random_labels")

def open_experiment(cfg: config.Config, workdir: Path) -> Experiment:
    """The pipeline's dataset file when `dvc repro download` made one, else a freshly built copy."""
    path = Path("data") / f"{cfg.data.name}.pt"
    if not path.exists():
        path = workdir / f"{cfg.data.name}.pt"
        torch.save(data.build(cfg.data.name, cfg.data.test_fraction), path)
    return Experiment.open(cfg, path, test=False)  # the validation side only: tuning never sees test images


def reference(exp: Experiment, seed: int, which: str):
    """The pretrained model or the retrain of chain `seed`, trained as stages/reference.py trains it."""
    splits = exp.splits(seed)
    part = splits.pretrain if which == "pretrained" else splits.target
    model = exp.new_model(seed, "original" if which == "pretrained" else "retrain")
    return fit(model, part.x, part.y, exp.cfg.train, rng.generator(seed, which), desc=which)


def row(name: str, model, val, oracle: dict | None = None) -> dict:
    acc = accuracies(model, val)
    out = {"method": name, **{k: acc[k] for k in ("forget_acc", "retain_acc", "new_acc")}}
    if oracle is not None:  # L1 distance to the oracle's three accuracies: the selection criterion
        out["oracle_gap"] = sum(abs(out[k] - oracle[k]) for k in ("forget_acc", "retain_acc", "new_acc"))
    return out


def run_point(exp: Experiment, seed: int, name: str, params, pretrained, val, oracle: dict,
              repeat: int) -> dict:
    """One method at one setting on a fresh copy of the pretrained model, timed like the unlearn stage.
    Runs are deterministic, so repeats only refine the timing: the minimum over them is kept (the run least
    disturbed by other processes)."""
    splits = exp.splits(seed)
    walls, cpus = [], []
    for _ in range(repeat):
        model = copy.deepcopy(pretrained)
        wall, cpu = time.perf_counter(), time.process_time()
        model = METHODS[name].unlearn(model, splits, params, rng.generator(seed, "unlearn", name))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {**row(name, model, val, oracle), "wall_s": min(walls), "cpu_s": min(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--overlay", nargs="*", default=[], type=Path, help="overlays applied to --params")
    parser.add_argument("--chains", type=int, default=1, help="average over chains 0 .. N-1")
    parser.add_argument("--methods", nargs="*", default=list(GRID), choices=sorted(METHODS))
    parser.add_argument("--defaults", action="store_true", help="only the params.yaml block of each method")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per point (the minimum is shown)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default); 1 keeps CPU seconds honest on a busy machine")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    raw = config.read_yaml(args.params)
    for path in args.overlay:
        raw = overlay.merged(raw, overlay.read(path))
    cfg = config.parse(raw)
    # scored on the validation side; in subset forgetting `forget` stays the forgotten training images (evaluation)
    cfg = dataclasses.replace(cfg, audit=dataclasses.replace(cfg.audit, split="val"))
    with tempfile.TemporaryDirectory() as workdir:
        exp = open_experiment(cfg, Path(workdir))
    per_chain = []
    started = time.process_time()
    for chain in range(args.chains):
        val = exp.evaluation(chain)
        pretrained = reference(exp, chain, "pretrained")
        wall, cpu = time.perf_counter(), time.process_time()  # the retrain, timed as a method: the speed yardstick
        retrained = reference(exp, chain, "oracle")
        timing = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        oracle = row("oracle", retrained, val)
        rows = [{**row("original", pretrained, val, oracle), "setting": ""}, {**oracle, **timing, "setting": ""}]
        for name in [*REFERENCES, *args.methods]:
            base = cfg.methods.get(name)
            if base is None:
                raise SystemExit(f"error: params file {args.params} has no block for method {name!r}")
            points = [{}] if args.defaults or name not in GRID else GRID[name]
            for overrides in points:
                params = dataclasses.replace(base, **overrides)  # re-validates through __post_init__
                setting = " ".join(f"{k}={v}" for k, v in overrides.items()) or "params.yaml"
                try:
                    result = run_point(exp, chain, name, params, pretrained, val, oracle, args.repeat)
                except Diverged as err:  # a point of the grid, not a crash: its row says so, without numbers
                    result = {"method": name, "diverged": str(err)}
                rows.append({**result, "setting": setting, "default": "yes" if params == base else ""})
                print(f"chain {chain} {name:16s} {setting:32s} {result.get('cpu_s', float('nan')):.2f} s CPU",
                      flush=True)
        frame = pd.DataFrame(rows).assign(chain=chain)
        if "diverged" not in frame:  # the column exists in every chain's frame, empty when nothing diverged
            frame["diverged"] = None
        per_chain.append(frame.assign(speedup=timing["cpu_s"] / frame["cpu_s"]))
    rows = (pd.concat(per_chain).groupby(["method", "setting"], sort=False, as_index=False)
            .agg({"default": "first", "forget_acc": "mean", "retain_acc": "mean", "new_acc": "mean",
                  "oracle_gap": "mean", "wall_s": "mean", "cpu_s": "mean", "speedup": "mean",
                  "diverged": "count"}))  # means over the chains that did not diverge; diverged: how many did
    table = rows[["method", "setting", "default", "forget_acc", "retain_acc", "new_acc", "oracle_gap", "wall_s",
                  "cpu_s", "speedup", "diverged"]]
    print()
    blanks = table.astype(object).where(table.notna(), None)  # rows without a value show an empty cell
    print(blanks.to_markdown(index=False, floatfmt=".3f", missingval=""))
    print(f"\nmean over chains 0-{args.chains - 1}, {cfg.data.name}, validation split, "
          f"torch threads {torch.get_num_threads()}, "
          f"sweep CPU time {time.process_time() - started:.1f} s (pretrain + oracle included)")


if __name__ == "__main__":
    main()
