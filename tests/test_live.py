"""Training curves (stages.live): the epoch hook sees every epoch of every fit, leaves the weights exactly as
a fit without it, and dvclive writes one row per epoch."""
from __future__ import annotations

import subprocess

import pandas as pd
import torch

from stages import live
from unlearning.core import io, rng
from unlearning.core.config import FitConfig
from unlearning.core.train import epoch_hook, fit, predict


def test_the_hook_sees_each_epoch_and_changes_no_weight(tiny_exp):
    part, val = tiny_exp.splits(0).pretrain, tiny_exp.splits(0, "val")
    cfg = FitConfig(epochs=3, batch_size=32, lr=1e-3)
    plain = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    seen = []

    def hook(model, desc, loss):
        seen.append((desc, loss, (predict(model, val.retain.x).argmax(1).cpu() == val.retain.y.cpu()).float().mean()))

    with epoch_hook(hook):
        hooked = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"), desc="pre")
        # steps mode ending mid-epoch: one point for the full pass, one for the partial one
        per_epoch = -(-len(part.y) // 32)
        fit(tiny_exp.new_model(1), part.x, part.y, cfg, rng.generator(0, "y"), steps=per_epoch + 2, desc="steps")
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), hooked.parameters()))
    assert [d for d, _, _ in seen] == ["pre"] * 3 + ["steps"] * 2
    losses = [loss for _, loss, _ in seen[:3]]
    assert losses[0] > losses[2] > 0  # the mean training loss of each epoch, falling
    assert seen[2][2] > seen[0][2]  # validation accuracy rises
    seen.clear()
    fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    assert seen == []  # outside the block no hook runs


def test_first_chain_curve_records_only_the_first_chain_and_dvclive_writes_it(tiny_exp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(io, "TEMP_ROOT", tmp_path / ".tmp")
    part, val = tiny_exp.splits(0).pretrain, tiny_exp.splits(0, "val")
    cfg = FitConfig(epochs=2, batch_size=32, lr=1e-3)
    with live.first_chain_curve(1, [0, 1], val) as curve:
        fit(tiny_exp.new_model(1), part.x, part.y, cfg, rng.generator(1, "x"))
    assert curve is None and live.curve_seconds(curve) == 0.0
    with live.first_chain_curve(0, [0, 1], val) as curve:
        fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    assert len(curve.rows) == 2 and curve.seconds > 0
    assert set(curve.rows[0]) == {"loss", "val_retain_acc", "val_forget_acc", "val_new_acc"}
    with io.all_or_nothing():
        live.write_curve("finetune", curve.rows)
    loss = pd.read_csv(tmp_path / "live" / "finetune" / "plots" / "metrics" / "loss.tsv", sep="\t")
    assert list(loss.columns) == ["step", "loss"] and loss.step.tolist() == [0, 1]
    assert loss["loss"].tolist() == [row["loss"] for row in curve.rows]


def test_curves_are_written_in_a_git_repository_without_a_commit(tmp_path, monkeypatch):
    """A user's `git init && dvc init && dvc repro` before any commit: dvclive must not read git's HEAD (it raises
    there) nor touch the repository (no `dvc init`, no experiment); it only writes the files."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(io, "TEMP_ROOT", tmp_path / ".tmp")
    with io.all_or_nothing():
        live.write_curve("oracle", [{"loss": 2.0, "val_retain_acc": 0.5}, {"loss": 1.0, "val_retain_acc": 0.75}])
    accuracy = pd.read_csv(tmp_path / "live" / "oracle" / "plots" / "metrics" / "val_retain_acc.tsv", sep="\t")
    assert accuracy.val_retain_acc.tolist() == [0.5, 0.75]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", ".tmp", "live"] or \
        sorted(p.name for p in tmp_path.iterdir()) == [".git", "live"]
