"""Wall time of the default experiment: `dvc repro` from an empty cache, then a no-op `dvc repro`.

Copies the pipeline (src/, dvc.yaml, params.yaml) into a fresh git + DVC repository in a temporary folder, so the
measurement never touches this checkout's cache. Targets (issue 2): full <= 180 s, no-op <= 3 s on 2 CPU cores.

Run: python bench/pipeline.py [--params params.yaml]
"""
from __future__ import annotations

import argparse
import os
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        shutil.copy(ROOT / "dvc.yaml", project)
        shutil.copy(args.params, project / "params.yaml")
        run(project, "git", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "init", "-q")
        run(project, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
        full = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        noop = run(project, sys.executable, "-m", "dvc", "repro", "-q")
        stages = sum(1 for line in (project / "dvc.lock").read_text().splitlines() if line.startswith("  ") and
                     not line.startswith("   "))
    print(f"default experiment ({stages} stages), {os.cpu_count()} CPU cores")
    print(f"  dvc repro, empty cache: {full:7.1f} s  (target 180 s: {full / 180:.2f} of it)")
    print(f"  dvc repro, no-op:       {noop:7.1f} s  (target 3 s: {noop / 3:.2f} of it)")


if __name__ == "__main__":
    main()
