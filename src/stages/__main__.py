"""`python -m stages <stage> [args]`: run one stage, e.g. `python -m stages unlearn finetune` (dvc.yaml goes through
src/run_stage.py, which calls main() here after making sure the workspace's own src/ is imported).

Runs the module `stages.<stage>` as __main__ in a fork of a warm process that has already imported torch
(stages/zygote.py), which saves ~2.5 s of CPU per stage. UNLEARNING_ZYGOTE=0, a platform without abstract Unix
sockets and pidfds, or a zygote that cannot be reached all run the stage in this process instead, exactly as
`python -m stages.<stage>` does.

UNLEARNING_STAGE_LOG=<file> appends one JSON line per stage: module, args, wall seconds and the stage process's
peak resident memory (bench/pipeline.py reads it: forked stages are not children of `dvc repro`).
"""
from __future__ import annotations

import json
import os
import resource
import runpy
import sys
import time
from importlib.util import find_spec

from stages import zygote


def log_stage(module: str, args: list[str], seconds: float, peak_kib: int) -> None:
    path = os.environ.get("UNLEARNING_STAGE_LOG")
    if path:
        with open(path, "a") as log:
            log.write(json.dumps({"module": module, "args": args, "seconds": round(seconds, 3),
                                  "peak_rss_mib": round(peak_kib / 1024, 1)}) + "\n")


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m stages <stage> [args], e.g. python -m stages unlearn finetune", file=sys.stderr)
        sys.exit(2)
    module, args = f"stages.{sys.argv[1]}", sys.argv[2:]
    if find_spec(module) is None:
        print(f"error: no stage module {module}", file=sys.stderr)
        sys.exit(2)
    start = time.perf_counter()
    if os.environ.get("UNLEARNING_ZYGOTE", "1") != "0" and hasattr(os, "pidfd_open"):
        forked = zygote.run_forked(module, args)
        if forked is not None:
            code, peak_kib = forked
            log_stage(module, args, time.perf_counter() - start, peak_kib)
            sys.exit(code)
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        log_stage(module, args, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
