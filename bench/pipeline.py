"""Wall time and peak memory of an experiment: `dvc repro` from an empty cache, then a no-op `dvc repro`.

Copies the pipeline (src/, dvc.yaml, params.yaml with the given overlays applied) into a fresh git + DVC repository
in a temporary folder, so the measurement never touches this checkout's cache. Every stage is a plain child process of dvc. Peak memory is the
largest resident set of any process the run started (the stages log their own and their workers' peaks through
UNLEARNING_STAGE_LOG). The load average is printed too: on a shared machine other processes slow the run down.
Targets: default params full <= 360 s, no-op <= 3 s; overlays/fashion.yaml full <= 900 s and <= 4 GiB; all on
2 CPU cores. --dispatch native runs without the AVX2 kernel pin (stages/base/process.py), for its cost.

Run: python bench/pipeline.py [--overlay FILE ...] [--set key=value ...] [--report-to FILE] [--target-s 360]
                              [--threads N] [--dispatch native]
--overlay applies overlays/*.yaml files (src/overlay.py), in order; --set then changes dotted params keys of the
copy (as `dvc exp run -S` would), e.g. another class pair:
  --set scenario.forget=1 scenario.learn=7 'scenario.pretrain_classes=[0,1,2,3,4,5,6,8,9]'
--report-to keeps the run's metrics/report.md (and metrics/summary.json beside it, as <FILE>.summary.json).
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

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from unlearning import overlay  # noqa: E402


def run(cwd: Path, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def make_project(folder: Path, overlays: list[Path], sets: list[str]) -> Path:
    """folder/project: a fresh git + DVC repository holding src/, dvc.yaml and params.yaml with `overlays` applied in
    order, then the dotted `key=value` overrides (as `dvc exp run -S` would). Also used by bench/frontier.py."""
    project = folder / "project"
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "dvc.yaml", project)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for path in overlays:
        params = overlay.merged(params, overlay.read(path))
    for assignment in sets:
        key, _, value = assignment.partition("=")
        *parents, last = key.split(".")
        node = params
        for part in parents:
            node = node[part]
        node[last] = yaml.safe_load(value)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(project, "git", "init", "-q")
    run(project, sys.executable, "-m", "dvc", "init", "-q")
    run(project, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
    return project


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--overlay", nargs="*", default=[], type=Path, help="overlays applied to params.yaml")
    parser.add_argument("--target-s", type=float, default=360.0, help="wall-time target of the full run")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the stages (default: torch's choice)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="dotted params overrides")
    parser.add_argument("--report-to", help="copy the run's metrics/report.md here")
    parser.add_argument("--keep-metrics", type=Path, metavar="DIR",
                        help="copy the run's metrics/ to DIR/metrics (e.g. for bench/reproduce.py --project DIR)")
    parser.add_argument("--stage-log", type=Path, metavar="FILE",
                        help="keep the stages' JSON lines (module, args, seconds, peak memory) in FILE")
    parser.add_argument("--dispatch", choices=("avx2", "native"), default="avx2",
                        help="CPU kernels of the stages: the pinned AVX2 ones (as committed results) or the CPU's own")
    args = parser.parse_args()
    os.environ["UNLEARNING_CPU_DISPATCH"] = args.dispatch
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        stage_log = Path(tmp) / "stages.jsonl"
        os.environ["UNLEARNING_STAGE_LOG"] = str(stage_log)
        project = make_project(Path(tmp), args.overlay, args.set)
        full = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        stages_run = [json.loads(line) for line in stage_log.read_text().splitlines()]
        stage_s = sum(stage["seconds"] for stage in stages_run)
        peak_gib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,  # KiB on Linux: dvc
                       *(stage["peak_rss_mib"] / 1024 for stage in stages_run))
        noop = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        if args.stage_log:
            shutil.copy(stage_log, args.stage_log)
        if args.keep_metrics:
            shutil.copytree(project / "metrics", args.keep_metrics / "metrics", dirs_exist_ok=True)
        if args.report_to:
            shutil.copy(project / "metrics" / "report.md", args.report_to)
            shutil.copy(project / "metrics" / "summary.json", f"{args.report_to}.summary.json")
        stages = sum(1 for line in (project / "dvc.lock").read_text().splitlines() if line.startswith("  ") and
                     not line.startswith("   "))
    variant = " ".join([*(f"+ {path}" for path in args.overlay), *args.set])
    print(f"params.yaml {variant} ({stages} stages), {os.cpu_count()} CPU cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"CPU kernels {args.dispatch}, "
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
