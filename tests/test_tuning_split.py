"""Tuning never reads the test split: the sweeps score on the validation split, and the experiment they open does
not hold the test split at all, so a read of it fails instead of passing silently."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tiny_params import TINY_PARAMS
from unlearning.core import config, data
from unlearning.core.experiment import Experiment

ROOT = Path(__file__).resolve().parents[1]


def bench(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_an_experiment_opened_for_tuning_cannot_read_the_test_split(tmp_path):
    cfg = config.load(TINY_PARAMS)
    path = tmp_path / "digits.pt"
    torch.save(data.build(cfg.data.name, cfg.data.test_fraction), path)
    exp = Experiment.open(cfg, path)  # the default: no test side
    assert len(exp.splits(0, "val").retain) > 0
    with pytest.raises(RuntimeError, match="test split"):
        exp.splits(0, "test")
    with pytest.raises(RuntimeError, match="test split"):
        exp.evaluation(0)  # audit.split is test in the tiny params


def test_validation_rows_are_a_stratified_share_outside_the_training_side(tmp_path):
    raw = data.build("digits", 0.2)
    held_out = data.validation_rows(raw["train_y"], 0.1)
    for label in raw["train_y"].unique():
        rows = raw["train_y"] == label
        assert abs(held_out[rows].float().mean().item() - 0.1) < 0.02
    cfg = config.load(TINY_PARAMS)
    path = tmp_path / "digits.pt"
    torch.save(raw, path)
    exp = Experiment.open(cfg, path, test=True)
    assert len(exp.tensors["train_y"]) + len(exp.tensors["val_y"]) == len(raw["train_y"])
    assert len(exp.tensors["test_y"]) == len(raw["test_y"])


def test_the_in_process_sweep_runs_on_validation_only(tmp_path):
    """sweep_methods end to end on the tiny params: it completes, so it never asked for the test split (the
    experiment it opens would raise), and says what it scored on."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "sweep_methods.py"), "--params", str(TINY_PARAMS),
                           "--defaults", "--methods", "ssd", "--threads", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "validation split" in done.stdout and "| ssd" in done.stdout


def test_every_queued_sweep_experiment_scores_on_validation():
    commands = bench("method_sweep").commands(["finetune", "scrub"])
    assert len(commands) == 4
    for command in commands:
        assert "audit.split=val" in command and command[command.index("audit.split=val") - 1] == "-S"
