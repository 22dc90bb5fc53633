"""executor.kind dask: the chains of a stage as tasks on a Dask cluster that the test starts on 127.0.0.1 (a
scheduler and two single-thread worker processes that cannot import this project). The outputs must be byte for
byte those of the local executor, also when a worker is killed mid-stage; an unreachable scheduler is bad input."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dask_cluster import free_port, kill_group, local_cluster
from dvc_project import make_project, sh
from test_bad_input import files_in, run_stage, with_data

pytest.importorskip("distributed")

METHODS = ("original", "finetune")
STAGES = ("oracle", "relearn@finetune")  # with their upstream: download, pretrain, unlearn@finetune
COMPARED = ("models", "relearn", "live")  # every output a chain task makes; runs/ holds wall-clock seconds


def snapshot(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for folder in COMPARED
            for p in sorted((project / folder).rglob("*")) if p.is_file() and p.name != ".gitignore"}


def use_executor(project: Path, cluster) -> None:
    params = project / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["executor"] = cluster.executor()
    params.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> dict[str, bytes]:
    project = make_project(tmp_path_factory.mktemp("local") / "project", METHODS)
    sh(project, sys.executable, "-m", "dvc", "repro", "-q", *STAGES)
    return snapshot(project)


def test_dask_outputs_are_byte_identical_to_the_local_executor(cluster, local_run, tmp_path):
    project = make_project(tmp_path / "project", METHODS)
    use_executor(project, cluster)
    sh(project, sys.executable, "-m", "dvc", "repro", "-q", *STAGES)
    on_dask = snapshot(project)
    assert sorted(on_dask) == sorted(local_run) and len(on_dask) > 10
    assert [name for name in on_dask if on_dask[name] != local_run[name]] == []
    # the chains ran on the cluster: its scheduler saw chain tasks of every stage but download
    assert chain_tasks(cluster) >= 4


def chain_tasks(cluster) -> int:
    """How many chain tasks (keys chain-<token>-<i>) the scheduler has finished so far."""
    def count(dask_scheduler) -> int:
        return len({entry[0] for entry in dask_scheduler.transition_log
                    if str(entry[0]).startswith("chain-") and entry[2] == "memory"})

    with cluster.client() as client:
        return client.run_on_scheduler(count)


# Long enough pretraining that each chain task trains for seconds (about 2 s on the 2-core machine, 0.1 s at the
# tiny 15 epochs): the test below must see a task running before it ends, on any machine
SLOW_PRETRAIN = {"train": {"epochs": 300}}


def test_a_worker_killed_mid_stage_changes_no_output(cluster, tmp_path):
    """The kill lands while the pretrain stage's chain tasks run on the workers: the scheduler reruns the lost task
    on the other worker (a replacement joins for the next test), and every output is the local executor's."""
    local = make_project(tmp_path / "local", METHODS, **SLOW_PRETRAIN)
    sh(local, sys.executable, "-m", "dvc", "repro", "-q", "pretrain")
    expected = snapshot(local)
    project = make_project(tmp_path / "project", METHODS, **SLOW_PRETRAIN)
    use_executor(project, cluster)
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    repro = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "-q", "pretrain"], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = None
    with cluster.client() as client:
        deadline = time.monotonic() + 240
        while victim is None and repro.poll() is None and time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any(str(key).startswith("chain-") for key in keys):
                    victim = next(w for w, info in client.scheduler_info()["workers"].items() if w == address)
                    name = client.scheduler_info()["workers"][victim]["name"]
                    kill_group(cluster.workers[int(str(name).removeprefix("worker"))])
                    break
            time.sleep(0.05)
    output, _ = repro.communicate(timeout=600)
    cluster.add_worker()  # back to two workers for whatever runs next
    assert victim is not None, "no chain task was ever seen running"
    assert repro.returncode == 0, output
    on_dask = snapshot(project)
    assert sorted(on_dask) == sorted(expected) and len(on_dask) >= 4  # a model per chain, at least
    assert [name for name in on_dask if on_dask[name] != expected[name]] == []


def test_an_unreachable_scheduler_is_one_line_naming_the_key(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    before = files_in(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    raw = {**tiny_raw, "executor": {**tiny_raw["executor"], "kind": "dask", "address": address}}
    result = run_stage(tmp_path, raw, "pretrain")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "executor.address" in line and address in line
    assert files_in(tmp_path) == before


def test_dask_without_an_address_names_the_key_and_the_variable(tmp_path, tiny_raw, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with_data(tmp_path, tiny_raw)
    result = run_stage(tmp_path, {**tiny_raw, "executor": {**tiny_raw["executor"], "kind": "dask", "address": None}},
                       "oracle")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "executor.address" in line and "DASK_SCHEDULER_ADDRESS" in line


def test_the_stage_function_reaches_a_second_worker_as_bytes(cluster):
    """A stage's function is unpickled on one worker; a task pinned to the other worker must fetch it from there.
    The closure holds train.fit's ContextVar, which Dask's own pickling of the live function cannot serialise."""
    import operator

    from stages.base.dask_executor import ship
    from unlearning.core import train

    def stage_fn(x: int) -> tuple[int, str]:
        return x * 2, type(train._PROGRESS_HOOK).__name__

    with cluster.client() as client:
        client.wait_for_workers(2, timeout=60)
        runner = ship(client, stage_fn, key="runner-fetch-test")
        runner.result()
        [holder] = client.who_has([runner])[runner.key]
        other = next(w for w in client.scheduler_info()["workers"] if w != holder)
        result = client.submit(operator.call, runner, 21, workers=[other], allow_other_workers=False, pure=False)
        assert result.result(timeout=60) == (42, "ContextVar")
        assert other in client.who_has([result])[result.key]
