"""Do the committed results reproduce here? The check a fresh clone on other hardware runs (README, "Reproducing").

Runs the default pipeline from an empty cache in a temporary project (as bench/pipeline.py builds it), or takes a
project that already ran (`--project .` after `dvc repro` in a clone), and compares its metrics/audit.json with the
committed one (git HEAD's, or --committed FILE) by unlearning.agreement: bit-identical values counted (expected on
the CPU family that produced the results), verdicts checked (expected everywhere): no metric equivalent in one run
and different in the other, overlapping forgetting-score intervals, no order reversed where both runs separate two
models, the same models passing. Exit 1 when the verdicts disagree.

`--dispatch native` runs the stages on this CPU's own kernels instead of the pinned AVX2 ones: other last bits on
the same machine, the nearest this machine gets to the other vendor's.

Run: python bench/reproduce.py [--dispatch avx2|native] [--project DIR] [--committed FILE]"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline  # noqa: E402  (bench/pipeline.py; it puts src/ on the path)

from unlearning.agreement import compare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AUDIT = Path("metrics/audit.json")


def committed_audit(path: Path | None) -> dict:
    if path is not None:
        return json.loads(path.read_text())
    text = subprocess.run(["git", "show", f"HEAD:{AUDIT}"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(text.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dispatch", choices=("avx2", "native"), default="avx2",
                        help="CPU kernels of the stages: the pinned AVX2 ones (as committed results) or the CPU's own")
    parser.add_argument("--project", type=Path, help="a project that already ran: compare it, run nothing")
    parser.add_argument("--committed", type=Path, help="the audit.json to compare with (default: git HEAD's)")
    args = parser.parse_args()
    committed = committed_audit(args.committed)
    load = os.getloadavg()[0]
    if args.project:
        rerun = json.loads((args.project / AUDIT).read_text())
        seconds = None
    else:
        os.environ["UNLEARNING_CPU_DISPATCH"] = args.dispatch
        with tempfile.TemporaryDirectory() as tmp:
            project = pipeline.make_project(Path(tmp), [], [])
            seconds = pipeline.run(project, sys.executable, "-m", "dvc", "repro", "-q")
            rerun = json.loads((project / AUDIT).read_text())
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    where = f"{args.project}" if args.project else f"a fresh run ({seconds:.0f} s, CPU kernels {args.dispatch})"
    print(f"{where} on {cpu}, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"against the committed metrics/audit.json")
    result = compare(committed, rerun)
    print(result.text())
    sys.exit(0 if result.agrees else 1)


if __name__ == "__main__":
    main()
