"""The training-budget sweep of the method zoo with DVC's experiment queue, scored on the validation split.

    python bench/method_sweep.py queue            # queue the grid below as `dvc exp run --queue` experiments
    dvc queue start -j 2                          # run them (each reruns one method's chain and `evaluate`)
    python bench/method_sweep.py table > t.md     # one markdown table from `dvc exp show --json`
                                                  # (--baseline <commit> once HEAD has moved on)

Each experiment changes one method's params block (experiment name `sw-<method>-<tag>-<n>`) and is scored by the
pipeline's own `evaluate` with `audit.split=val` (SWEEP_AUDIT): on the validation split, never the test split, over
8 chains: forget / retain / new-class accuracy, the per-example forgetting score, the final score and the
speed-up. Selection rule, printed as `chosen`: among the settings that can be >= 10x faster than retraining -- one
epoch (the retrain trains `train.epochs` = 20 epochs on the same images) at batch 128 (at batch 32 the per-step
overhead makes an epoch 2-3x dearer) -- the highest final score. Speed-ups in the table come from runs that shared
the machine (two queue workers): compare them within one table only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pandas as pd

TRAINED = ("finetune", "random_labels", "neggrad", "last_layers", "saliency_freeze", "mi_regularizer",
           "ewc", "neggrad_plus", "l1_sparse", "salun", "scrub", "boundary_shrink", "cf_k", "salun_rl")
# tag -> hydra sweep overrides of methods.<m>.<key>; the grid is their Cartesian product
GRID = {
    "b128": {"epochs": "1,2", "lr": "0.001,0.003", "batch_size": "128"},
    "b32": {"epochs": "1", "lr": "0.001,0.003", "batch_size": "32"},
}
EXTRA_GRID = {"scrub": {"b128": {"max_epochs": "1"}, "b32": {"max_epochs": "1"}}}  # scrub: max_epochs <= epochs
ACCURACIES = ("forget_acc", "retain_acc", "new_acc")
# every sweep experiment scores on the validation split, over fewer chains than the default run
SWEEP_AUDIT = {"audit.split": "val", "audit.chains": "8", "audit.attack_chains": "2"}


def commands(methods: list[str]) -> list[list[str]]:
    """The `dvc exp run --queue` command of each (method, grid tag)."""
    out = []
    for method in methods:
        for tag, grid in GRID.items():
            grid = {**grid, **EXTRA_GRID.get(method, {}).get(tag, {})}
            overrides = [arg for key, values in grid.items() for arg in ("-S", f"methods.{method}.{key}={values}")]
            audit = [arg for key, value in SWEEP_AUDIT.items() for arg in ("-S", f"{key}={value}")]
            out.append([sys.executable, "-m", "dvc", "exp", "run", "--queue", "-n", f"sw-{method}-{tag}",
                        *audit, *overrides, "evaluate"])
    return out


def queue(methods: list[str]) -> None:
    for command in commands(methods):
        subprocess.run(command, check=True)


def experiments(baseline: str) -> list[tuple[str, dict, dict]]:
    """(name, params.yaml, metrics/summary.json) of every sweep experiment `dvc exp show` knows on `baseline`."""
    shown = json.loads(subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json", "--rev", baseline],
                                      check=True, capture_output=True, text=True).stdout)
    found = []
    for baseline in shown:
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                name, data = rev.get("name") or "", rev.get("data") or {}
                metrics = (data.get("metrics") or {}).get("metrics/summary.json", {}).get("data")
                if name.startswith("sw-") and metrics and not rev.get("error"):  # failed runs show the baseline
                    found.append((name, data["params"]["params.yaml"]["data"], metrics))
    return found


def extra_keys(method: str, block: dict) -> dict:
    """Keys a method's grid changes beyond the shared three (scrub's max phase must fit in its epochs)."""
    return {"max_epochs": block["max_epochs"]} if method == "scrub" else {}


def table(baselines: list[str]) -> pd.DataFrame:
    rows = []
    for name, params, metrics in (found for baseline in baselines for found in experiments(baseline)):
        method = next(m for m in TRAINED if name.startswith(f"sw-{m}-"))
        if params["audit"]["split"] != "val":
            continue  # scored on test: not a tuning run
        block, scores = params["methods"][method], metrics[method]
        rows.append({"method": method, "epochs": block["epochs"], "lr": block["lr"], "batch": block["batch_size"],
                     **{key: scores[key] for key in ACCURACIES}, "forgetting": scores["forgetting_score"],
                     "final": scores["final_score"], "different": scores["different"],
                     "compute": scores["compute_share"], "experiment": name, **extra_keys(method, block)})
    frame = pd.DataFrame(rows)
    frame = frame.drop_duplicates([c for c in ("method", "epochs", "lr", "batch", "max_epochs") if c in frame])
    frame = frame.sort_values(["method", "epochs", "batch", "lr"]).reset_index(drop=True)
    budget = frame[(frame.epochs == 1) & (frame.batch == 128)]
    frame["chosen"] = frame.index.isin(budget.groupby("method").final.idxmax())
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["queue", "table"])
    parser.add_argument("--methods", nargs="+", default=list(TRAINED), choices=TRAINED)
    parser.add_argument("--baseline", nargs="+", default=["HEAD"], help="the commit(s) experiments were queued on")
    args = parser.parse_args()
    if args.command == "queue":
        queue(args.methods)
    else:
        frame = table(args.baseline).drop(columns="experiment")
        frame = frame[frame.method.isin(args.methods)].astype(object)
        frame = frame.where(frame.notna(), None)  # max_epochs exists for scrub only: an empty cell elsewhere
        print(frame.to_markdown(index=False, floatfmt=".3f", missingval=""))


if __name__ == "__main__":
    main()
