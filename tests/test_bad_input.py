"""Bad params: one line on stderr naming the key and what is allowed, exit code 2, nothing written."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SRC = Path(__file__).resolve().parents[1] / "src"


def run_stage(workdir: Path, raw: dict | None, *args: str) -> subprocess.CompletedProcess:
    if raw is not None:
        (workdir / "params.yaml").write_text(yaml.safe_dump(raw))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", *args], cwd=workdir, env=env, capture_output=True, text=True)


def files_in(workdir: Path) -> set[str]:
    return {str(p.relative_to(workdir)) for p in workdir.rglob("*")}


def edit(raw: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


DELETE = object()

CASES = [
    # (edit to the tiny params, stage, key that the error must name, a word of what is allowed)
    ("methods.no_such_method", {"lr": 0.1}, "stages.download", "methods.no_such_method", "finetune"),
    ("scenario.forget", 3, "stages.pretrain", "scenario.forget", "not among pretrain_classes"),
    ("scenario.learn", 7, "stages.pretrain", "scenario.learn", "already among pretrain_classes"),
    ("methods.finetune.lr", 0.0, "stages.unlearn", "methods.finetune.lr", "> 0"),
    ("methods.finetune.lr", -1e-3, "stages.unlearn", "methods.finetune.lr", "> 0"),
    ("train.lr", 0, "stages.oracle", "train.lr", "> 0"),
    ("data.name", "imagenet", "stages.download", "data.name", "mnist-5k"),
    ("train.epochs", DELETE, "stages.pretrain", "train.epochs", "missing"),
    ("relearn", DELETE, "stages.evaluate", "relearn", "missing"),
    ("model.hiden", [8], "stages.pretrain", "model.hiden", "allowed: arch, hidden"),
    ("device", "tpu", "stages.plot", "device", "cpu"),
    ("data.name", "cifar10", "stages.download", "data.test_fraction", "official test split"),
    ("data.test_fraction", None, "stages.download", "data.test_fraction", "must be in (0, 1)"),
    ("model.arch", "vgg", "stages.pretrain", "model.arch", "resnet18"),
    ("model.arch", "cnn", "stages.pretrain", "model.channels", "1 to 4 positive conv widths"),
    ("model.channels", [16], "stages.pretrain", "model.channels", "use []"),
    ("train.augment.pad", -1, "stages.oracle", "train.augment.pad", ">= 0"),
    ("train.augment.flip", "yes", "stages.oracle", "train.augment.flip", "true or false"),
    ("train.augment", DELETE, "stages.pretrain", "train.augment", "missing"),
    ("scenario.learn", 10, "stages.pretrain", "scenario.learn", "labels 0..9"),
]


@pytest.mark.parametrize("dotted,value,stage,key,allowed", CASES, ids=[c[0] + "-" + c[2] for c in CASES])
def test_bad_params_exit_2_with_one_line_and_no_output(tmp_path, tiny_raw, dotted, value, stage, key, allowed):
    raw = edit(tiny_raw, dotted, value)
    before = files_in(tmp_path) | {"params.yaml"}
    args = [stage, "finetune"] if stage == "stages.unlearn" else [stage]
    result = run_stage(tmp_path, raw, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert key in lines[0] and allowed in lines[0], lines[0]
    assert files_in(tmp_path) == before


def test_missing_params_file_names_it(tmp_path):
    result = run_stage(tmp_path, None, "stages.download")
    assert result.returncode == 2
    assert "params.yaml" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert files_in(tmp_path) == set()


def test_missing_dataset_file_names_it(tmp_path, tiny_raw):
    result = run_stage(tmp_path, tiny_raw, "stages.pretrain")
    assert result.returncode == 2
    assert "data/digits" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert files_in(tmp_path) == {"params.yaml"}
