"""Small hyperparameter sweep of the method zoo on the default experiment (one seed), against the oracle.

    PYTHONPATH=src python bench/sweep_methods.py                  # the whole grid below
    PYTHONPATH=src python bench/sweep_methods.py --defaults --repeat 3   # params.yaml's blocks, timed 3x
    PYTHONPATH=src python bench/sweep_methods.py --methods ssd scrub

Trains the pretrained model and the oracle of the seed exactly as the pretrain/oracle stages do, then runs
every grid point on a fresh copy of the pretrained model with the generator the unlearn stage would use, and
prints one markdown table: test accuracies (forget / retain / new) and the method's wall and CPU seconds.
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

from unlearning import config, data, rng
from unlearning.experiment import Experiment
from unlearning.methods import METHODS
from unlearning.metrics import accuracies
from unlearning.train import fit

# method -> grid points (overrides of its params.yaml block): 4 points each on the method's key knobs
GRID = {
    "mi_regularizer": [{"gamma": g} for g in (1.0, 4.0, 16.0)] + [{"gamma": 4.0, "epochs": 3}],
    "ewc": [{"anchor": a} for a in (1e2, 1e3, 1e4, 1e5)],
    "neggrad_plus": [{"alpha": a} for a in (0.99, 0.995, 0.999)] + [{"alpha": 0.999, "epochs": 3}],
    "l1_sparse": [{"l1": g} for g in (5e-4, 2e-3, 5e-3)] + [{"l1": 2e-3, "epochs": 3}],
    "salun": [{"fraction": f} for f in (0.1, 0.3, 0.5)] + [{"fraction": 0.5, "epochs": 3}],
    "scrub": [{"max_epochs": m, "temperature": t} for m, t in ((2, 4.0), (2, 2.0), (2, 1.0), (1, 1.0))],
    "ssd": [{"selection": a, "dampening": d} for a, d in ((5.0, 1.0), (2.0, 1.0), (2.0, 0.5), (2.0, 0.25))],
    "boundary_shrink": [{"step": s} for s in (0.0, 0.5, 2.0)] + [{"step": 0.5, "epochs": 3}],
}
# run once at their params.yaml settings: the runtime yardstick of the existing pipeline
REFERENCES = ("finetune", "random_labels")

def open_experiment(cfg: config.Config, workdir: Path) -> Experiment:
    """The pipeline's dataset file when `dvc repro download` made one, else a freshly built copy."""
    path = Path("data") / f"{cfg.data.name}.pt"
    if not path.exists():
        path = workdir / f"{cfg.data.name}.pt"
        torch.save(data.build(cfg.data.name, cfg.data.test_fraction), path)
    return Experiment.open(cfg, path)


def reference(exp: Experiment, seed: int, which: str, draw: int = 0):
    """The pretrained model or the oracle of `seed`, trained as stages/reference.py trains it. draw > 0: the same
    recipe from another start (initialisation and batch order), as bench/oracle_noise.py needs."""
    splits = exp.splits(seed)
    part = splits.pretrain if which == "pretrained" else splits.target
    model = exp.new_model(seed if draw == 0 else rng.derive(seed, f"{which} draw {draw}"))
    names = (which,) if draw == 0 else (which, f"draw {draw}")
    return fit(model, part.x, part.y, exp.cfg.train, rng.generator(seed, *names), desc=" ".join(names))


def row(name: str, model, test, oracle: dict | None = None) -> dict:
    acc = accuracies(model, test)
    out = {"method": name, **{k: acc[k] for k in ("forget_acc", "retain_acc", "new_acc")}}
    if oracle is not None:  # L1 distance to the oracle's three accuracies: the selection criterion
        out["oracle_gap"] = sum(abs(out[k] - oracle[k]) for k in ("forget_acc", "retain_acc", "new_acc"))
    return out


def run_point(exp: Experiment, seed: int, name: str, params, pretrained, test, oracle: dict,
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
    return {**row(name, model, test, oracle), "wall_s": min(walls), "cpu_s": min(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="*", default=list(GRID), choices=sorted(METHODS))
    parser.add_argument("--defaults", action="store_true", help="only the params.yaml block of each method")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per point (the minimum is shown)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default); 1 keeps CPU seconds honest on a busy machine")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = config.load(args.params)
    with tempfile.TemporaryDirectory() as workdir:
        exp = open_experiment(cfg, Path(workdir))
    test = exp.splits(args.seed, "test")
    pretrained = reference(exp, args.seed, "pretrained")
    oracle = row("oracle", reference(exp, args.seed, "oracle"), test)
    rows = [{**row("original", pretrained, test, oracle), "setting": ""}, {**oracle, "setting": ""}]
    started = time.process_time()
    for name in [*REFERENCES, *args.methods]:
        base = cfg.methods.get(name)
        if base is None:
            raise SystemExit(f"error: params file {args.params} has no block for method {name!r}")
        points = [{}] if args.defaults or name not in GRID else GRID[name]
        for overrides in points:
            params = dataclasses.replace(base, **overrides)  # re-validates through __post_init__
            setting = " ".join(f"{k}={v}" for k, v in overrides.items()) or "params.yaml"
            result = run_point(exp, args.seed, name, params, pretrained, test, oracle, args.repeat)
            rows.append({**result, "setting": setting, "default": "yes" if params == base else ""})
            print(f"{name:16s} {setting:32s} {result['cpu_s']:.2f} s CPU", flush=True)
    table = pd.DataFrame(rows)[["method", "setting", "default", "forget_acc", "retain_acc", "new_acc",
                                "oracle_gap", "wall_s", "cpu_s"]]
    print()
    blanks = table.astype(object).where(table.notna(), None)  # rows without a value show an empty cell
    print(blanks.to_markdown(index=False, floatfmt=".3f", missingval=""))
    print(f"\nseed {args.seed}, {cfg.data.name}, torch threads {torch.get_num_threads()}, "
          f"sweep CPU time {time.process_time() - started:.1f} s (pretrain + oracle excluded)")


if __name__ == "__main__":
    main()
