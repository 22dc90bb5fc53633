"""Progress in logs: off a terminal a stage prints one line per chain (its seconds, the stage's elapsed time) and a
closing line with its total; on a terminal each pool worker draws its training bar on a line of its own."""
from __future__ import annotations

import os
import re

import torch
from test_bad_input import run_stage, with_data

from stages.base.common import parallel_map
from unlearning.core import train

CHAIN_LINE = re.compile(r"^pretrain: chain (\d+) done in [0-9.]+ s \((\d+)/(\d+), \d+ s elapsed\)$")


def test_off_a_terminal_each_chain_prints_a_line_and_the_stage_its_total(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    result = run_stage(tmp_path, tiny_raw, "pretrain")  # stderr is a pipe, as under CI or `| tee`
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    chains = [CHAIN_LINE.match(line) for line in lines[:-1]]
    assert all(chains), lines
    seeds = list(range(tiny_raw["audit"]["chains"]))
    assert sorted(int(m.group(1)) for m in chains) == sorted(seeds)
    assert [int(m.group(2)) for m in chains] == list(range(1, len(seeds) + 1))  # counted as they finish
    assert re.fullmatch(r"stage pretrain: [0-9.]+ s", lines[-1]), lines[-1]
    assert "it/s" not in result.stderr  # no tqdm bar off a terminal


def test_each_pool_worker_draws_its_bar_on_its_own_line(monkeypatch):
    monkeypatch.setenv("UNLEARNING_WORKERS", "2")
    positions = parallel_map(lambda _: (train.BAR_POSITION, os.getpid()), list(range(8)), torch.device("cpu"),
                             timed=1)
    assert positions[0][0] == 0  # the timed item runs in the stage's own process, on the first line
    by_worker = dict(p[::-1] for p in positions[1:])
    assert sorted(by_worker.values()) == list(range(1, len(by_worker) + 1))  # one line per worker, none shared
