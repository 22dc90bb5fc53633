"""What a stage prints while it runs, so that a log (CI, `dvc repro | tee`) shows where the time goes.

- A line per finished work item of parallel_map (a chain, or a chain's attack with k samples), with the item's
  own seconds and the stage's elapsed time: `unlearn scrub: chain 7 done in 1.3 s (8/32, 12 s elapsed)`.
- On a terminal, training bars (core/train.fit's tqdm) as well, one line per worker process: each worker draws at
  its own position (BAR_POSITION), so two workers do not overwrite each other's bar; the item lines go through
  tqdm.write, which keeps them above the bars.
- run_stage.py ends every stage with its total: `stage unlearn scrub: 41.2 s`.
Lines go to stderr, which DVC shows as the stage runs; the outputs do not depend on any of it."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm.auto import tqdm


def describe(item) -> str:
    """An item of a stage's parallel_map: a chain's seed, (seed, k) for an attack with k samples, or a model's
    name (the evaluate stage's audit of each model over all chains)."""
    if isinstance(item, tuple) and len(item) == 2:
        return f"chain {item[0]} k={item[1]}"
    if isinstance(item, str):
        return f"model {item}"
    return f"chain {item}"


def stage_name() -> str:
    """`unlearn scrub` for `python src/run_stage.py unlearn scrub`, `layered.relearn` for a scenario's stage:
    run_stage.py runs the module with runpy, which sets sys.argv[0] to its file, .../src/stages/unlearn.py."""
    module = Path(sys.argv[0]).with_suffix("").as_posix().rpartition("/stages/")[2].replace("/", ".")
    return " ".join([module, *sys.argv[1:]])


class Progress:
    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def finished(self, item, seconds: float) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        tqdm.write(f"{stage_name()}: {describe(item)} done in {seconds:.1f} s "
                   f"({self.done}/{self.total}, {elapsed:.0f} s elapsed)", file=sys.stderr)
        sys.stderr.flush()


def timed(fn):
    """fn(*args) -> (fn's result, its seconds): measured where the item runs (a worker process or a Dask worker)."""

    def run(*args):
        start = time.perf_counter()
        result = fn(*args)
        return result, time.perf_counter() - start

    return run
