"""bench/oracle_noise.py: the noise floor of "within 1 point of the oracle" (extra retrains of the oracle)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from conftest import TINY_PARAMS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "oracle_noise.py"


def bench_module():
    sys.path.insert(0, str(ROOT / "bench"))  # oracle_noise imports its sibling sweep_methods
    try:
        import oracle_noise
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return oracle_noise


def test_retrain_draws_are_other_oracles(tiny_exp, tiny_models):
    """A draw is the oracle's recipe with another start: reproducible, different from the pipeline's oracle and
    from the other draws, and as good a model of the target classes."""
    bench_module()  # puts sweep_methods, which trains the references, in sys.modules
    from sweep_methods import reference
    first, again, second = (reference(tiny_exp, 0, "oracle", draw) for draw in (1, 1, 2))
    assert torch.equal(reference(tiny_exp, 0, "oracle").head.weight, tiny_models["oracle"].head.weight)  # draw 0
    oracle = tiny_models["oracle"]
    for a, b in zip(first.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert not torch.equal(first.head.weight, oracle.head.weight)
    assert not torch.equal(first.head.weight, second.head.weight)
    from unlearning.metrics import accuracies
    test = tiny_exp.splits(0, "test")
    assert abs(accuracies(first, test)["retain_acc"] - accuracies(oracle, test)["retain_acc"]) < 0.1


def run(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, str(SCRIPT), "--params", str(TINY_PARAMS), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)


def test_prints_the_share_of_draws_within_one_point(tmp_path):
    done = run(tmp_path, "--draws", "2", "--methods", "finetune")
    assert done.returncode == 0, done.stderr
    summary = done.stdout.split("Summary")[1]
    rows = {line.split("|")[1].strip(): line for line in summary.splitlines() if line.startswith("| ")}
    assert {"retrain", "finetune"} <= rows.keys()
    for line in (rows["retrain"], rows["finetune"]):
        assert line.rstrip(" |").endswith("/2")  # within_1_point: passing draws out of 2


def test_a_method_without_a_params_block_is_named(tmp_path):
    raw = yaml.safe_load(TINY_PARAMS.read_text())
    del raw["methods"]["finetune"]
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    done = subprocess.run([sys.executable, str(SCRIPT), "--params", str(params), "--methods", "finetune"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == f"error: params file {params} has no block for method 'finetune'"
