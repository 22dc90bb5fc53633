"""Chains per minute of the oracle stage (one retrain per chain) with the local process pool vs the Dask executor on
one and two single-thread worker processes of a cluster on 127.0.0.1, as ratios measured in one run; and the Dask
engine's overhead per task (a no-op task's round trip through dask_executor.dask_map).

Each setting runs `python src/run_stage.py oracle` in its own copy of the tests' tiny params (tests/tiny_params.py)
with audit.chains set by --chains, after one shared download; the stage's wall time includes its start (imports,
data load) and, on Dask, the connection and sending the task function once. The cluster is tests/dask_cluster.py's.
On one machine the workers share its cores with each other (and with the local pool on the same cores), so this
measures the engine's cost, not a cluster's gain: a cluster pays off when it adds cores or GPUs (README).

Run: python bench/dask_chains.py [--chains 16] [--noop-tasks 200] [--data digits|mnist-5k]
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

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from dask_cluster import local_cluster  # noqa: E402
from tiny_params import tiny_raw  # noqa: E402

from unlearning.core import config  # noqa: E402


def stage_seconds(workdir: Path, raw: dict, env: dict) -> float:
    (workdir / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    shutil.rmtree(workdir / "models", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "src" / "run_stage.py"), "oracle"], cwd=workdir, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def noop_overhead_s(executor, tasks: int) -> float:
    """Seconds per no-op task through dask_map (pickling, scheduling, the round trip), minus the same map run
    serially here."""
    from stages.base import dask_executor

    items = list(range(tasks))
    with dask_executor.connect(executor) as (client, trusted):
        dask_executor.dask_map(client, abs, items[:4], None, gpu=False, trusted=trusted)  # warm: a worker's first
        start = time.perf_counter()
        dask_executor.dask_map(client, abs, items, None, gpu=False, trusted=trusted)
        on_dask = time.perf_counter() - start
    start = time.perf_counter()
    [abs(i) for i in items]
    return (on_dask - (time.perf_counter() - start)) / tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=16, help="audit.chains of the timed oracle stage")
    parser.add_argument("--noop-tasks", type=int, default=200, help="no-op tasks for the per-task overhead")
    parser.add_argument("--data", default="digits", help="data.name: digits (0.2 s chains) or mnist-5k (longer)")
    args = parser.parse_args()
    raw = tiny_raw()
    raw["data"]["name"] = args.data
    raw["audit"]["chains"] = args.chains
    raw["audit"]["attack_chains"] = min(raw["audit"]["attack_chains"], args.chains)
    from stages.base.process import CPU_PIN

    os.environ.update(CPU_PIN)  # this process is a Dask client too (the no-op tasks): the workers check the pin
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project"
        work.mkdir()
        (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        subprocess.run([sys.executable, str(ROOT / "src" / "run_stage.py"), "download"], cwd=work, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        seconds = {"local pool": stage_seconds(work, raw, env)}
        with local_cluster(Path(tmp) / "dask", workers=1) as cluster:
            dask_raw = {**raw, "executor": cluster.executor()}
            seconds["dask, 1 worker"] = stage_seconds(work, dask_raw, env)
            cluster.add_worker()
            cluster.wait_for_workers(2)
            seconds["dask, 2 workers"] = stage_seconds(work, dask_raw, env)
            overhead = noop_overhead_s(config.parse_dataclass(config.ExecutorConfig, cluster.executor(), "executor"),
                                       args.noop_tasks)
    base = seconds["local pool"]
    print(f"oracle stage, {args.chains} chains (tiny params, data {args.data}), {os.cpu_count()} CPUs, "
          f"UNLEARNING_WORKERS={os.environ.get('UNLEARNING_WORKERS', 'CPU count')}")
    for name, s in seconds.items():
        print(f"  {name:16s} {s:7.2f} s  {60 * args.chains / s:7.1f} chains/min  ratio to local {base / s:5.2f}")
    print(f"  Dask overhead per task: {1000 * overhead:.1f} ms ({args.noop_tasks} no-op tasks)")
    print(f"  load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
