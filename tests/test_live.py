"""Training curves (stages.live): the progress hook sees POINTS_PER_FIT evenly spaced points of every fit (the
last one at its end), leaves the weights exactly as a fit without it, and dvclive writes a row per point at the
chain's optimiser step."""
from __future__ import annotations

import subprocess

import pandas as pd
import torch

from stages import live
from unlearning.core import io, rng
from unlearning.core.config import FitConfig
from unlearning.core.train import POINTS_PER_FIT, fit, predict, progress_hook


def test_the_hook_sees_points_through_every_fit_and_changes_no_weight(tiny_exp):
    part, val = tiny_exp.splits(0).pretrain, tiny_exp.splits(0, "val")
    cfg = FitConfig(epochs=3, batch_size=32, lr=1e-3)
    per_epoch = -(-len(part.y) // 32)
    total = 3 * per_epoch
    assert total > 2 * POINTS_PER_FIT  # several steps between points, so the loss is a mean over them
    plain = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    seen = []

    def hook(model, desc, loss, steps):
        accuracy = (predict(model, val.retain.x).argmax(1).cpu() == val.retain.y.cpu()).float().mean()
        seen.append((desc, loss, steps, accuracy))

    with progress_hook(hook):
        hooked = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"), desc="pre")
        # a stopping rule that ends the fit after 3 steps: the last point comes at the stop
        fit(tiny_exp.new_model(1), part.x, part.y, cfg, rng.generator(0, "y"), on_step=lambda s: s == 3,
            desc="stopped")
    assert all(torch.equal(p, q) for p, q in zip(plain.parameters(), hooked.parameters()))
    pre = [s for s in seen if s[0] == "pre"]
    every = -(-total // POINTS_PER_FIT)
    assert [steps for _, _, steps, _ in pre] == [every] * (total // every) + ([total % every] if total % every else [])
    assert len(pre) == POINTS_PER_FIT and sum(steps for _, _, steps, _ in pre) == total
    assert [(d, steps) for d, _, steps, _ in seen[len(pre):]] == [("stopped", 3)]
    assert pre[0][1] > pre[-1][1] > 0  # the mean training loss between points, falling
    assert pre[-1][3] > pre[0][3]  # validation accuracy rises
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
        fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "y"), steps=4)  # a second fit continues
    total = 2 * -(-len(part.y) // 32)
    assert len(curve.rows) == POINTS_PER_FIT + 4 and curve.seconds > 0
    assert set(curve.rows[0]) == {"step", "loss", "val_retain_acc", "val_forget_acc", "val_new_acc"}
    with io.all_or_nothing():
        live.write_curve("finetune", curve.rows)
    loss = pd.read_csv(tmp_path / "live" / "finetune" / "plots" / "metrics" / "loss.tsv", sep="\t")
    assert list(loss.columns) == ["step", "loss"]
    assert loss.step.tolist() == [row["step"] for row in curve.rows]
    assert loss.step.iloc[POINTS_PER_FIT - 1] == total and loss.step.iloc[-1] == total + 4  # steps over both fits
    assert loss["loss"].tolist() == [row["loss"] for row in curve.rows]


def test_curves_are_written_in_a_git_repository_without_a_commit(tmp_path, monkeypatch):
    """A user's `git init && dvc init && dvc repro` before any commit: dvclive must not read git's HEAD (it raises
    there) nor touch the repository (no `dvc init`, no experiment); it only writes the files."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(io, "TEMP_ROOT", tmp_path / ".tmp")
    with io.all_or_nothing():
        live.write_curve("oracle", [{"step": 3, "loss": 2.0, "val_retain_acc": 0.5},
                                    {"step": 6, "loss": 1.0, "val_retain_acc": 0.75}])
    accuracy = pd.read_csv(tmp_path / "live" / "oracle" / "plots" / "metrics" / "val_retain_acc.tsv", sep="\t")
    assert accuracy.val_retain_acc.tolist() == [0.5, 0.75]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", ".tmp", "live"] or \
        sorted(p.name for p in tmp_path.iterdir()) == [".git", "live"]
