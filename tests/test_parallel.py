"""parallel_map, which spreads a stage's seeds and attacks over forked processes: same results in the same order
as a serial loop, really in other processes, and a stage's one-line errors survive the trip back."""
from __future__ import annotations

import os

import pytest
import torch

from stages.base.common import parallel_map
from unlearning.core.config import ConfigError
from unlearning.core.io import InputError

CPU = torch.device("cpu")


def test_results_match_a_serial_loop_in_order_from_other_processes(monkeypatch):
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")
    offset = 10  # a closure: workers inherit it by fork, nothing is pickled but items and results

    def work(seed: int) -> tuple[int, float, int]:
        generator = torch.Generator().manual_seed(seed)
        return seed + offset, torch.randn(1000, generator=generator).sum().item(), os.getpid()

    parallel = parallel_map(work, [3, 1, 2, 5], CPU)
    assert [r[:2] for r in parallel] == [work(s)[:2] for s in [3, 1, 2, 5]]
    assert os.getpid() not in {r[2] for r in parallel}


def test_one_worker_or_cuda_runs_serially_in_this_process(monkeypatch):
    monkeypatch.setenv("UNLEARNING_WORKERS", "1")
    assert parallel_map(lambda _: os.getpid(), [0, 1], CPU) == [os.getpid()] * 2
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")
    assert parallel_map(lambda _: os.getpid(), [0, 1], torch.device("cuda")) == [os.getpid()] * 2


def test_timed_items_run_one_at_a_time_in_this_process(monkeypatch):
    """Items whose seconds become speed-ups must not share the cores with each other."""
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")
    assert parallel_map(lambda _: os.getpid(), [0, 1], CPU, timed=2) == [os.getpid()] * 2
    first, *rest = parallel_map(lambda _: os.getpid(), [0, 1, 2, 3], CPU, timed=1)  # the rest in workers
    assert first == os.getpid() and os.getpid() not in rest


@pytest.mark.parametrize("error", [ConfigError("methods.x.lr", "must be > 0"), InputError("data/x.pt: missing")])
def test_a_workers_error_reaches_the_stage_unchanged(monkeypatch, error):
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")

    def work(seed: int) -> int:
        if seed == 1:
            raise error
        return seed

    with pytest.raises(type(error)) as raised:
        parallel_map(work, [0, 1], CPU)
    assert str(raised.value) == str(error)
    assert getattr(raised.value, "key", None) == getattr(error, "key", None)


def test_a_worker_killed_by_the_os_fails_the_stage_instead_of_hanging(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")

    def work(seed: int) -> int:
        if seed == 1:
            os.kill(os.getpid(), 9)  # what the OOM killer does
        return seed

    with pytest.raises(BrokenProcessPool):
        parallel_map(work, [0, 1, 2], CPU)
