"""Wall time of the suite of forget requests (suite/dvc.yaml) from an empty cache, against the 40-minute target.

Copies the pipeline (src/, dvc.yaml, params.yaml, overlays/, the suite's dvc.yaml, params.yaml and request
overlays) into a fresh git + DVC repository in a temporary folder, runs `dvc repro suite/dvc.yaml` there and prints
the total, each request's share (from the stage log every stage writes, UNLEARNING_STAGE_LOG) and the load average
before and after: on a shared machine other processes slow the run down.

Run: python bench/suite.py [--keep]   (--keep copies the results, the report, the figure and suite/dvc.lock back
                                        into this checkout's suite/, for committing)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE_FILES = ("dvc.yaml", "params.yaml", "requests")
KEPT = ("results", "report.md", "summary.json", "ranks.png", "dvc.lock")


def run(cwd: Path, *args: str, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="copy the results back into suite/")
    parser.add_argument("--target-s", type=float, default=2400.0)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        shutil.copytree(ROOT / "overlays", project / "overlays")
        for name in ("dvc.yaml", "params.yaml", ".dvcignore"):
            shutil.copy(ROOT / name, project)
        (project / "suite").mkdir()
        for name in SUITE_FILES:
            copy = shutil.copytree if (ROOT / "suite" / name).is_dir() else shutil.copy
            copy(ROOT / "suite" / name, project / "suite" / name)
        stage_log = Path(tmp) / "stages.jsonl"
        env = {**os.environ, "UNLEARNING_STAGE_LOG": str(stage_log),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        run(project, "git", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
        total = run(project, sys.executable, "-m", "dvc", "repro", "-q", "suite/dvc.yaml", env=env)
        stages = [json.loads(line) for line in stage_log.read_text().splitlines()]
        if args.keep:
            for name in KEPT:
                target = ROOT / "suite" / name
                shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
                copy = shutil.copytree if (project / "suite" / name).is_dir() else shutil.copy
                copy(project / "suite" / name, target)
    print(f"suite/dvc.yaml, {os.cpu_count()} CPU cores, load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"  dvc repro, empty cache: {total:7.1f} s  (target {args.target_s:.0f} s: {total / args.target_s:.2f} of it)")
    print(f"    inside the {len(stages)} stage commands of the requests: {sum(s['seconds'] for s in stages):.1f} s; "
          f"peak resident memory of one process {max(s['peak_rss_mib'] for s in stages) / 1024:.2f} GiB")


if __name__ == "__main__":
    main()
