"""Wall time and peak memory of an experiment: `dvc repro` from an empty cache, then a no-op `dvc repro`.

Copies the pipeline (src/, dvc.yaml, a params file) into a fresh git + DVC repository in a temporary folder, so the
measurement never touches this checkout's cache, and starts from a cold stage zygote (its own UNLEARNING_STAGE_LOG
gives it its own). Peak memory is the largest resident set of any process the run started: the stages' own peaks
from that log (they are forked by the zygote, not children of dvc) and dvc's. The load average is printed too: on
a shared machine other processes slow the run down.
Targets: default params (issue 2) full <= 180 s, no-op <= 3 s; params_fashion.yaml (issue "real data at full
scale") full <= 900 s and <= 4 GiB; all on 2 CPU cores.

Run: python bench/pipeline.py [--params params.yaml] [--target-s 180] [--threads N] [--no-zygote]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cwd: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default=str(ROOT / "params.yaml"))
    parser.add_argument("--target-s", type=float, default=180.0, help="wall-time target of the full run")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the stages (default: torch's choice)")
    parser.add_argument("--no-zygote", action="store_true", help="every stage a plain process (UNLEARNING_ZYGOTE=0)")
    args = parser.parse_args()
    if args.no_zygote:
        os.environ["UNLEARNING_ZYGOTE"] = "0"
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        stage_log = Path(tmp) / "stages.jsonl"
        os.environ["UNLEARNING_STAGE_LOG"] = str(stage_log)
        project = Path(tmp) / "project"
        shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        shutil.copy(ROOT / "dvc.yaml", project)
        shutil.copy(args.params, project / "params.yaml")
        run(project, "git", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
        full = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        stages_run = [json.loads(line) for line in stage_log.read_text().splitlines()]
        stage_s = sum(stage["seconds"] for stage in stages_run)
        peak_gib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,  # KiB on Linux: dvc
                       *(stage["peak_rss_mib"] / 1024 for stage in stages_run))
        noop = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        stages = sum(1 for line in (project / "dvc.lock").read_text().splitlines() if line.startswith("  ") and
                     not line.startswith("   "))
    print(f"{Path(args.params).name} ({stages} stages), {os.cpu_count()} CPU cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"stages {'in plain processes' if args.no_zygote else 'forked from the zygote'}, "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  dvc repro, empty cache: {full:7.1f} s  (target {args.target_s:.0f} s: {full / args.target_s:.2f} of it)")
    print(f"    of which inside the {len(stages_run)} stage commands: {stage_s:.1f} s, DVC's own work: "
          f"{full - stage_s:.1f} s")
    slowest = sorted(stages_run, key=lambda stage: -stage["seconds"])[:5]
    print("    slowest: " + ", ".join(f"{' '.join([stage['module'][7:], *stage['args']])} {stage['seconds']:.1f} s"
                                      for stage in slowest))
    print(f"  peak resident memory of one process: {peak_gib:.2f} GiB")
    print(f"  dvc repro, no-op:       {noop:7.1f} s  (target 3 s: {noop / 3:.2f} of it)")


if __name__ == "__main__":
    main()
