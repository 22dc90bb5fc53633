"""`python src/run_stage.py <stage> [args]`: how every dvc.yaml runs a stage, e.g. `... unlearn finetune` runs the
module `stages.unlearn` as __main__ with the argument `finetune`, in this process (a plain child of `dvc`).

Run as a script, this file puts its own folder (this checkout's src/) first on sys.path, so a stage imports the
code of the workspace it runs in; `python -m stages.<stage>` with the editable install would import the checkout
that was installed, which is wrong for `dvc exp run --queue` / `--temp`, whose workspaces are copies elsewhere.
Before anything imports torch it pins the CPU kernels and ties the stage's life to dvc's (stages/process.py).
It writes no bytecode: a __pycache__ file cut short by a full disk made every later stage of the checkout fail with
"marshal data too short", even after space was freed (tests/test_full_disk.py).

Only the stages of the pipelines' dvc.yaml files run (STAGES; tests/test_stage_deps.py checks the two agree):
any other name, or a stage without the argument it needs, is one line on stderr and exit code 2.

A stage that ends normally prints `stage <name>: <seconds> s` on stderr. UNLEARNING_STAGE_LOG=<file> appends one
JSON line per stage: module, args, wall seconds, the peak resident memory of the stage and of its worker processes,
torch's CPU kernel capability and the project files the stage imported (bench/pipeline.py and the tests read it)."""
import sys

sys.dont_write_bytecode = True  # before any import of the project's modules (see the docstring)

import atexit  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import resource  # noqa: E402
import runpy  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

SRC = Path(__file__).resolve().parent
sys.path.insert(0, str(SRC))

from stages.base import process  # noqa: E402  (after the sys.path line: this checkout's stages package)

# stage -> what its one argument names (None: it takes none); the commands of dvc.yaml and scenarios/*/dvc.yaml
STAGES = {"download": None, "pretrain": None, "oracle": None, "oracle_b": None, "unlearn": "a method",
          "relearn": "a method, oracle or oracle_b",
          "evaluate": None, "plot": None,
          **{f"layered.{name}": None for name in ("download", "pretrain", "oracle", "unlearn", "relearn", "evaluate",
                                                  "plot")},
          "amnesia.data": None, "amnesia.classifier": None, "amnesia.train": "original or oracle",
          "amnesia.forget": "a method", "amnesia.evaluate": None, "amnesia.plot": None}
USAGE = "usage: python src/run_stage.py <stage> [argument], e.g. ... unlearn finetune"


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    """(module, args) of a stage of STAGES, or a ValueError saying what is wrong. The argument (a method's name) is
    checked against params.yaml by the stage itself."""
    if not argv:
        raise ValueError(f"{USAGE}; stages: {', '.join(STAGES)}")
    name, args = argv[0], argv[1:]
    if name not in STAGES:
        raise ValueError(f"error: unknown stage {name!r}; allowed: {', '.join(STAGES)}")
    wanted = STAGES[name]
    if wanted is None and args:
        raise ValueError(f"error: stage {name} takes no argument, got {' '.join(args)!r}")
    if wanted is not None and (len(args) != 1 or not args[0].isidentifier()):
        raise ValueError(f"error: stage {name} takes one argument, {wanted}, got {' '.join(args)!r}")
    return f"stages.{name}", args


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


def exit_finished_stage() -> None:
    """Ends the process of a stage that finished, without the interpreter's teardown: freeing every module of a
    process that imported torch, scikit-learn and pandas takes 0.5-0.9 s on the 2-core machine, paid by each of the
    pipeline's 58 stages (~35 s of a 428 s `dvc repro`, bench/pipeline.py). What a normal exit does for the stage's
    results still happens: its exit handlers run and its output is flushed (the outputs themselves are closed files
    by now). A stage that left a non-daemon thread running exits normally, which waits for it."""
    if any(thread.is_alive() and not thread.daemon for thread in threading.enumerate()
           if thread is not threading.main_thread()):
        return
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main() -> None:
    try:
        module, args = parse_args(sys.argv[1:])
    except ValueError as err:
        print(err, file=sys.stderr)
        sys.exit(2)
    process.pin_cpu_dispatch()
    process.die_with_parent()
    process.exit_on_termination()
    start = time.perf_counter()
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        log_stage(module, args, time.perf_counter() - start)
    # the closing line of a stage's progress (stages/base/progress.py); a failed stage ends with its error instead
    print(f"stage {' '.join([module.removeprefix('stages.'), *args])}: {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    exit_finished_stage()


if __name__ == "__main__":
    main()
