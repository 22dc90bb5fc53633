"""Bad params: one line on stderr naming the key and what is allowed, exit code 2, nothing written."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SRC = Path(__file__).resolve().parents[1] / "src"


def run_stage(workdir: Path, raw: dict | None, *args: str) -> subprocess.CompletedProcess:
    """`python src/run_stage.py <stage> [args]` in workdir, as dvc runs it; args[0] may be 'stages.<stage>'."""
    if raw is not None:
        (workdir / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    stage = args[0].removeprefix("stages.")
    return subprocess.run([sys.executable, str(SRC / "run_stage.py"), stage, *args[1:]], cwd=workdir,
                          env=dict(os.environ), capture_output=True, text=True)


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
    ("audit.chains", 1, "stages.pretrain", "audit.chains", "integer >= 2"),
    ("audit.chains", 2.5, "stages.oracle", "audit.chains", "must be an integer"),
    ("audit.chains", "32", "stages.evaluate", "audit.chains", "must be an integer"),
    ("audit.attack_chains", 1, "stages.evaluate", "audit.attack_chains", "from 2 to chains"),
    ("audit.attack_chains", 7, "stages.pretrain", "audit.attack_chains", "from 2 to chains (6)"),
    ("audit.probe_draws", 0, "stages.evaluate", "audit.probe_draws", ">= 1"),
    ("audit", DELETE, "stages.pretrain", "audit", "missing"),
    ("data.validation_fraction", 0.6, "stages.pretrain", "data.validation_fraction", "(0, 0.5)"),
    ("executor.kind", "ray", "stages.pretrain", "executor.kind", "allowed: local, dask"),
    # the keys of the methods that follow their sources (ssd, scrub, boundary_shrink, l1_sparse)
    ("methods.ssd.selection", 0.0, "stages.unlearn", "methods.ssd.selection", "> 0"),
    ("methods.ssd.batch_size", 0, "stages.unlearn", "methods.ssd.batch_size", "> 0"),
    ("methods.scrub.temperature", -4.0, "stages.unlearn", "methods.scrub.temperature", "> 0"),
    ("methods.scrub.max_epochs", 9, "stages.unlearn", "methods.scrub.max_epochs", "<= epochs (5)"),
    ("methods.boundary_shrink.epsilon", 0.0, "stages.unlearn", "methods.boundary_shrink.epsilon", "> 0"),
    ("methods.l1_sparse.momentum", 1.0, "stages.unlearn", "methods.l1_sparse.momentum", "[0, 1)"),
    ("methods.l1_sparse.l1", DELETE, "stages.unlearn", "methods.l1_sparse.l1", "missing"),
    # neggrad, neggrad_plus, cf_k, last_layers, random_labels, salun_rl, mi_regularizer
    ("methods.neggrad.stop_accuracy", 1.0, "stages.unlearn", "methods.neggrad.stop_accuracy", "[0, 1)"),
    ("methods.neggrad.momentum", -0.5, "stages.unlearn", "methods.neggrad.momentum", "[0, 1)"),
    ("methods.neggrad_plus.alpha", 1.0, "stages.unlearn", "methods.neggrad_plus.alpha", "(0, 1)"),
    ("methods.cf_k.k", 0, "stages.unlearn", "methods.cf_k.k", ">= 1"),
    ("methods.last_layers.layers", 0, "stages.unlearn", "methods.last_layers.layers", ">= 1"),
    ("methods.last_layers.samples", 0, "stages.unlearn", "methods.last_layers.samples", ">= 1"),
    ("methods.random_labels.samples", DELETE, "stages.unlearn", "methods.random_labels.samples", "missing"),
    ("methods.salun_rl.momentum", DELETE, "stages.unlearn", "methods.salun_rl.momentum", "missing"),
    ("methods.mi_regularizer.kept_batch_size", 0, "stages.unlearn", "methods.mi_regularizer.kept_batch_size", "> 0"),
]


@pytest.mark.parametrize("dotted,value,stage,key,allowed", CASES, ids=[c[0] + "-" + c[2] for c in CASES])
def test_bad_params_exit_2_with_one_line_and_no_output(tmp_path, tiny_raw, dotted, value, stage, key, allowed):
    raw = edit(tiny_raw, dotted, value)
    before = files_in(tmp_path) | {"params.yaml"}
    args = [stage, dotted.split(".")[1]] if stage == "stages.unlearn" else [stage]  # the method the key belongs to
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


# --- bad input files and workspaces: one line naming the file or key, exit 2, nothing written ---------------------

def with_data(workdir: Path, raw: dict) -> None:
    """The tiny params and their dataset file + manifest in workdir (the download stage's outputs)."""
    result = run_stage(workdir, raw, "download")
    assert result.returncode == 0, result.stderr


# a chain that finished before the bad input was met (stages/base/progress.py): a log line, not part of the error
PROGRESS_LINE = re.compile(r"^[\w. ]+: (chain|model) \S+( k=\d+)? done in [0-9.]+ s \(\d+/\d+, \d+ s elapsed\)$")


def one_line_exit_2(result: subprocess.CompletedProcess, *words: str) -> str:
    """The error is one line, the last; only progress lines of chains done before it may precede it."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not PROGRESS_LINE.match(line)]
    assert len(lines) == 1 and result.stderr.strip().endswith(lines[0]), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


def test_cuda_without_a_gpu_is_a_params_error(tmp_path, tiny_raw):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: device: cuda is valid here")
    with_data(tmp_path, tiny_raw)
    before = files_in(tmp_path)
    one_line_exit_2(run_stage(tmp_path, {**tiny_raw, "device": "cuda"}, "pretrain"), "device", "no CUDA device")
    assert files_in(tmp_path) == before


def test_relearn_samples_above_the_forget_images_names_key_value_and_count(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    before = files_in(tmp_path)
    raw = edit(tiny_raw, "relearn.samples", [8, 5000])
    line = one_line_exit_2(run_stage(tmp_path, raw, "relearn", "finetune"), "relearn.samples", "k = 5000")
    available = int(line.split("than the ")[1].split()[0])
    assert 0 < available < 5000
    assert files_in(tmp_path) == before


def test_relearn_samples_in_subset_forgetting_keep_one_image_to_score(tmp_path, tiny_raw):
    raw = edit(tiny_raw, "scenario", {"kind": "forget_subset", "pretrain_classes": list(range(10)), "forget": 3,
                                      "learn": None, "forget_fraction": 0.5})
    with_data(tmp_path, raw)
    result = run_stage(tmp_path, edit(raw, "relearn.samples", [1000]), "relearn", "finetune")
    line = one_line_exit_2(result, "relearn.samples", "one forgotten image must stay out")
    available = int(line.split("than the ")[1].split()[0])
    # exactly the largest k that still leaves an image to score is accepted by the check
    ok = run_stage(tmp_path, edit(raw, "relearn.samples", [available + 1]), "relearn", "finetune")
    one_line_exit_2(ok, "relearn.samples")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def test_truncated_model_file_names_it_and_how_to_recover(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    assert run_stage(tmp_path, None, "pretrain").returncode == 0
    truncate(tmp_path / "models" / "pretrained" / "seed1.pt")
    before = files_in(tmp_path)
    one_line_exit_2(run_stage(tmp_path, None, "unlearn", "finetune"), "models/pretrained/seed1.pt", "truncated",
                    "dvc repro -f")
    assert files_in(tmp_path) == before


def test_truncated_dataset_file_names_it(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    data = tmp_path / "data" / "digits.pt"
    truncate(data)
    manifest = tmp_path / "data" / "digits.json"  # a manifest that matches the damaged file: torch.load must fail
    import json
    from unlearning.core.data import sha256
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "sha256": sha256(data)}))
    before = files_in(tmp_path)
    one_line_exit_2(run_stage(tmp_path, None, "pretrain"), "data/digits.pt", "truncated", "download")
    assert files_in(tmp_path) == before


def test_truncated_relearn_file_names_it(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    (tmp_path / "relearn").mkdir()
    first = next(iter(tiny_raw["methods"]))  # the first model evaluate reads
    (tmp_path / "relearn" / f"{first}.json").write_text('[{"seed": 0, "k": 8, "st')
    before = files_in(tmp_path)
    one_line_exit_2(run_stage(tmp_path, None, "evaluate"), f"relearn/{first}.json", "truncated")
    assert files_in(tmp_path) == before


def test_yaml_exponent_without_decimal_point_is_a_number(tmp_path, tiny_raw):
    """YAML 1.1 (PyYAML) reads 1e-3 and 1.0e-3 as strings; DVC reads params.yaml as YAML 1.2, where they are numbers.
    The stages read them as DVC does."""
    from unlearning.core import config
    text = yaml.safe_dump(tiny_raw).replace("lr: 0.003", "lr: 3e-3", 1)
    assert "lr: 3e-3" in text
    (tmp_path / "params.yaml").write_text(text)
    assert config.load(tmp_path / "params.yaml").methods["finetune"].lr == 0.003


def test_infinite_number_is_a_params_error(tmp_path, tiny_raw):
    one_line_exit_2(run_stage(tmp_path, edit(tiny_raw, "train.lr", float("inf")), "pretrain"), "train.lr", "finite")


STAGE = f"{sys.executable} {SRC / 'run_stage.py'}"


def in_private_mounts(workdir: Path, script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a private mount namespace, so that the read-only or tiny file system it mounts is
    seen by this script alone. Needs root (unshare, mount): skipped with the reason otherwise."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to mount a read-only or a full file system for one process")
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], cwd=workdir,
                            env=dict(os.environ), capture_output=True, text=True)
    if "mount:" in result.stderr or "unshare:" in result.stderr:
        pytest.skip(f"mounting is not permitted here: {result.stderr.strip()}")
    return result


def test_read_only_workspace_names_the_path(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    before = files_in(tmp_path)
    result = in_private_mounts(tmp_path, f"mount --bind {tmp_path} {tmp_path} && "
                                         f"mount -o remount,bind,ro {tmp_path} && cd {tmp_path} && {STAGE} pretrain")
    one_line_exit_2(result, "Read-only file system", "nothing was written")
    assert files_in(tmp_path) == before


def test_full_disk_names_the_path_and_writes_nothing(tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    inputs_kib = sum(p.stat().st_size for p in (tmp_path / "data").iterdir()) // 1024 + 8
    # a file system with room for the inputs and not for the models the pretrain stage writes; after the stage,
    # every file on it is listed (the file system vanishes with the namespace)
    result = in_private_mounts(tmp_path, f"mkdir full && mount -t tmpfs -o size={inputs_kib + 12}k tmpfs full && "
                                         f"cp -r data params.yaml full/ && cd full && "
                                         f"{{ {STAGE} pretrain; echo exit=$? >&2; }}; find . | sort")
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "exit=2", result.stderr
    one_line_exit_2(subprocess.CompletedProcess([], 2, "", "\n".join(lines[:-1])), "No space left on device",
                    "nothing was written")
    assert result.stdout.split() == [".", "./data", "./data/digits.json", "./data/digits.pt", "./params.yaml"]


def test_more_layers_than_the_model_has_is_a_params_error(tmp_path, tiny_raw):
    """cf_k.k and last_layers.layers are checked against the model once it exists (inside the unlearn stage)."""
    with_data(tmp_path, tiny_raw)
    assert run_stage(tmp_path, tiny_raw, "pretrain").returncode == 0
    before = files_in(tmp_path)
    for method, key in (("cf_k", "k"), ("last_layers", "layers")):
        raw = edit(tiny_raw, f"methods.{method}.{key}", 4)  # the tiny MLP has 3 linear layers
        one_line_exit_2(run_stage(tmp_path, raw, "unlearn", method), f"methods.{method}.{key}", "3 linear layers")
        assert files_in(tmp_path) == before
