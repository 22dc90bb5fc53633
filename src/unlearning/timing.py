"""Wall-clock speed-ups: each trained method's seconds against the retrain's, same chain, both timed alone.

Kept out of the DVC metrics files on purpose: seconds change with the machine and its load (on a shared 2-core
machine one method measured 0.9x to 5.4x across ten identical runs), so they live in eval/timing.md, marked with
the machine they were measured on; the metrics hold only what a rerun reproduces."""
from __future__ import annotations

import os
import platform

import torch

from unlearning import stats
from unlearning.core import rng
from unlearning.core.config import Config


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def speedups(runs: dict[str, dict[int, dict]], methods: list[str]) -> dict[str, stats.Interval]:
    """method -> mean over the chains timed alone of (retrain seconds / method seconds) and its bootstrap
    interval; runs: model -> seed -> run record (stages.base.common.read_runs)."""
    out = {}
    for method in methods:
        ratios = [runs["oracle"][seed]["seconds"] / run["seconds"] for seed, run in runs[method].items()
                  if run.get("timed_alone") and runs["oracle"][seed].get("timed_alone") and run["seconds"] > 0]
        if ratios:
            out[method] = stats.bootstrap_mean_ci(torch.tensor(ratios), rng.generator(0, "speedup", method),
                                                  bounds=None)
    return out


def timing_report(runs: dict[str, dict[int, dict]], methods: list[str], cfg: Config) -> str:
    lines = ["# Wall-clock speed-ups over retraining", "",
             f"Measured on this machine ({cpu_name()}, {os.cpu_count()} CPUs), each method and the retrain timed "
             f"alone on the first {cfg.audit.attack_chains} chains; seconds vary with the machine and its load, so "
             "these numbers are not DVC metrics.", "",
             "| method | speed-up [95 % CI] |", "|---|---|"]
    for method, i in sorted(speedups(runs, methods).items(), key=lambda item: -item[1].mean):
        interval = f" [{i.low:.1f}, {i.high:.1f}]" if i.low == i.low else ""
        lines.append(f"| {method} | {i.mean:.1f}x{interval} |")
    return "\n".join(lines) + "\n"
