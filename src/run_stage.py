"""`python src/run_stage.py <stage> [args]`: how every dvc.yaml runs a stage, e.g. `... unlearn finetune` runs the
module `stages.unlearn` as __main__ with the argument `finetune`, in this process (a plain child of `dvc`).

Run as a script, this file puts its own folder (this checkout's src/) first on sys.path, so a stage imports the
code of the workspace it runs in; `python -m stages.<stage>` with the editable install would import the checkout
that was installed, which is wrong for `dvc exp run --queue` / `--temp`, whose workspaces are copies elsewhere.
Before anything imports torch it pins the CPU kernels and ties the stage's life to dvc's (stages/process.py).

A stage that ends normally prints `stage <name>: <seconds> s` on stderr. UNLEARNING_STAGE_LOG=<file> appends one
JSON line per stage: module, args, wall seconds, the peak resident memory of the stage and of its worker processes,
torch's CPU kernel capability and the project files the stage imported (bench/pipeline.py and the tests read it)."""
import json
import os
import resource
import runpy
import sys
import time
from importlib.util import find_spec
from pathlib import Path

SRC = Path(__file__).resolve().parent
sys.path.insert(0, str(SRC))

from stages.base import process  # noqa: E402  (after the sys.path line: this checkout's stages package)


def project_files() -> list[str]:
    """Every file under src/ that this process has imported, relative to the workspace root."""
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    return sorted(str(Path(f).resolve().relative_to(SRC.parent)) for f in files
                  if f and Path(f).resolve().is_relative_to(SRC))


def log_stage(module: str, args: list[str], seconds: float) -> None:
    path = os.environ.get("UNLEARNING_STAGE_LOG")
    if not path:
        return
    torch = sys.modules.get("torch")
    peak_kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    with open(path, "a") as log:
        log.write(json.dumps({"module": module, "args": args, "seconds": round(seconds, 3),
                              "peak_rss_mib": round(peak_kib / 1024, 1),
                              "cpu_capability": torch.backends.cpu.get_cpu_capability() if torch else None,
                              "imports": project_files()}) + "\n")


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python src/run_stage.py <stage> [args], e.g. ... unlearn finetune", file=sys.stderr)
        sys.exit(2)
    process.pin_cpu_dispatch()
    process.die_with_parent()
    process.exit_on_termination()
    module, args = f"stages.{sys.argv[1]}", sys.argv[2:]
    if find_spec(module) is None:
        print(f"error: no stage module {module}", file=sys.stderr)
        sys.exit(2)
    start = time.perf_counter()
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        log_stage(module, args, time.perf_counter() - start)
    # the closing line of a stage's progress (stages/base/progress.py); a failed stage ends with its error instead
    print(f"stage {' '.join([module.removeprefix('stages.'), *args])}: {time.perf_counter() - start:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
