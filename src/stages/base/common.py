"""The project layout (the only fixed paths), the error handling every stage shares, and parallel_map."""
from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Sequence

import torch

from stages.base import process, progress
from unlearning.core import config, io, train
from unlearning.core.experiment import Experiment
from unlearning.core.io import InputError

PARAMS = Path("params.yaml")
PRETRAINED = Path("models/pretrained")
ORACLE = Path("models/oracle")
ORACLE_B = Path("models/oracle_b")  # the second, independent population of retrains
UNLEARNED = Path("models/unlearned")
RELEARN = Path("relearn")
RUNS = Path("runs")  # runs/<model>.json: each seed's training seconds and divergence, outside the cached models
METRICS = Path("metrics")
EVAL = Path("eval")
PLOTS = Path("plots")
LIVE = Path("live")  # live/<model>/: the first chain's training curves, dvclive's layout (stages/live.py)
TEMP = Path(".tmp")  # atomic writes' temporaries: inside no output and no dependency of any stage


def data_path(cfg: config.Config) -> Path:
    return Path("data") / f"{cfg.data.name}.pt"


def manifest_path(cfg: config.Config) -> Path:
    return Path("data") / f"{cfg.data.name}.json"


def model_dir(name: str) -> Path:
    """Where a model family lives: 'pretrained', 'oracle', 'oracle_b' or an unlearning method's name."""
    return {"pretrained": PRETRAINED, "oracle": ORACLE, "oracle_b": ORACLE_B}.get(name, UNLEARNED / name)


def seed_file(directory: Path, seed: int, suffix: str) -> Path:
    return directory / f"seed{seed}{suffix}"


def write_runs(name: str, seeds, runs: list[dict]) -> None:
    """runs/<name>.json: {"seed<s>": {"seconds": ..., "diverged": null or the reason, ...}}. Kept out of the model
    directories: seconds differ on every run, and a rerun with bit-identical weights must not invalidate the
    stages that read the weights."""
    io.write_json(RUNS / f"{name}.json", {f"seed{seed}": run for seed, run in zip(seeds, runs)})


def read_runs(name: str) -> dict[int, dict]:
    """seed -> that seed's run record (see write_runs)."""
    raw = io.read_json(RUNS / f"{name}.json", f"rerun the stage that trains {name}")
    return {int(key.removeprefix("seed")): run for key, run in raw.items()}


def open_experiment(cfg: config.Config, scoring: bool = False) -> Experiment:
    """scoring=True only in the evaluation stages (relearn, evaluate), which score on audit.split: only then, and
    only when that split is test, can a stage read the test split."""
    return Experiment.open(cfg, data_path(cfg), manifest_path(cfg), test=scoring and cfg.audit.split == "test")


def stage(fn):
    """Run a stage's main(); bad params or input files, and a workspace it cannot write (read-only, disk full),
    end in one line on stderr and exit code 2, with no partial output (writes are atomic, see unlearning.core.io).

    One intra-op thread: for this project's small models, a second thread costs more in synchronisation than it
    gains (unlearn@finetune on mnist-5k: 4.2 s with 1 thread, 33 s with 2 on a busy 2-core machine), and
    DVC runs stages one after another anyway."""

    @functools.wraps(fn)
    def run(*args):
        torch.set_num_threads(1)
        io.TEMP_ROOT = TEMP.resolve()
        try:
            io.clean_stale_temps()
            with io.all_or_nothing():
                return fn(*args)
        except (config.ConfigError, InputError) as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except OSError as err:  # EACCES, EROFS, ENOSPC, EDQUOT ... on a path of this workspace
            where = err.filename or "the workspace"
            print(f"error: {where}: cannot write or read ({err.strerror or err}); nothing was written",
                  file=sys.stderr)
            sys.exit(2)
        finally:
            with contextlib.suppress(OSError):  # only when empty: a running stage elsewhere may be using it
                TEMP.rmdir()

    return run


_TASK: Callable | None = None  # what parallel_map's forked workers run; inherited, never pickled


def _run_task(item) -> bytes:
    """The result as plain pickle bytes: returned as objects, its tensors would travel by file descriptor (torch's
    file_descriptor sharing), which multiprocessing hands over through a listening Unix socket in each worker
    (torch's file_system strategy instead starts torch_shm_manager, another listener). Bytes need no socket."""
    return pickle.dumps(_TASK(item), protocol=pickle.HIGHEST_PROTOCOL)


def _init_worker(counter) -> None:
    """A pool worker: dies with the stage, and draws its training bar on its own line (worker i on line i; the
    stage's own process, which runs the timed items, on line 0)."""
    process.die_with_parent()
    with counter.get_lock():
        counter.value += 1
        train.BAR_POSITION = counter.value


def _with_inputs(fn: Callable, inputs: Callable) -> Callable:
    return lambda item: fn(item, inputs(item))


def parallel_map(fn: Callable, items: Sequence, device, timed: int = 0, inputs: Callable | None = None,
                 executor: config.ExecutorConfig | None = None) -> list:
    """[fn(item) for item in items] (or fn(item, inputs(item))), in up to UNLEARNING_WORKERS forked processes
    (default: the CPU count), or, with executor.kind dask, as tasks on a Dask cluster (stages.base.dask_executor).
    Each finished item prints a line with its seconds (stages.base.progress).

    DVC runs one stage at a time, so without this a 2-core machine leaves one core idle for the whole pipeline.
    Processes rather than intra-op threads: each work item (one seed, one attack) is independent and seeded on its
    own, so the results are bit-identical to a serial run, and on a busy machine two processes just share the
    cores where two OpenMP threads spin-wait on each other. Serial on CUDA: a forked child cannot use a CUDA
    context its parent created. `fn` may be a closure (workers inherit it by fork); results travel by pickle.
    Tasks write no files: they return what the stage writes, so that a Dask worker needs no shared file system.

    inputs(item): what the item starts from (the models it reads). Locally it runs in the worker beside fn; on
    Dask it runs here, in the stage, and its result travels with the task.

    timed=K: the first K items time themselves for speed-ups (the retrain, the unlearning methods), so they run one
    at a time in this process, before the rest run in parallel: two short method runs side by side slowed each
    other far more than two retrainings did (scrub: 0.32 s per chain in parallel, 0.18 s alone; retrain 2.50 s vs
    2.22 s). Speed-ups are read from those K items only (the evaluate stage knows which from runs/)."""
    global _TASK
    report = progress.Progress(len(items))
    task = progress.timed(fn if inputs is None else _with_inputs(fn, inputs))  # item -> (result, seconds)
    timed = min(timed, len(items))
    results = [None] * len(items)

    def done(i: int, result_and_seconds) -> None:
        results[i], seconds = result_and_seconds
        report.finished(items[i], seconds)

    def serially(indices) -> None:
        for i in indices:
            done(i, task(items[i]))

    if executor is not None and executor.kind == "dask":
        from stages.base import dask_executor  # distributed is imported only by stages that use it

        with dask_executor.connect(executor) as (client, trusted):  # first: a bad cluster costs no work
            serially(range(timed))
            dask_executor.dask_map(client, progress.timed(fn), items[timed:], inputs, gpu=device.type == "cuda",
                                   trusted=trusted, on_done=lambda j, result: done(timed + j, result))
        return results
    serially(range(timed))
    rest = range(timed, len(items))
    workers = min(len(rest), int(os.environ.get("UNLEARNING_WORKERS", os.cpu_count() or 1)))
    if workers <= 1 or device.type != "cpu":
        serially(rest)
        return results
    _TASK = task
    try:  # an executor, not multiprocessing.Pool: a worker killed by the OS raises here instead of hanging map()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(context.Value("i", 0),)) as pool:
            index = {pool.submit(_run_task, items[i]): i for i in rest}
            for future in as_completed(index):
                done(index[future], pickle.loads(future.result()))  # from this stage's own forked worker
        return results
    finally:
        _TASK = None
