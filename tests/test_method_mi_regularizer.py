"""mi_regularizer (study C): each step pairs a Z = 0 batch of retain + forget + new with a Z = 1 batch of retain +
new, of the configured sizes, and the cross-entropy never reads a forget image."""
from __future__ import annotations

import copy
import dataclasses

import torch

from method_helpers import row_index
from unlearning.core import rng
from unlearning.core.splits import Part
from unlearning.methods import mi_regularizer


def test_z_batches_are_as_defined(monkeypatch, tiny_exp, pretrained):
    params = dataclasses.replace(tiny_exp.cfg.methods["mi_regularizer"], epochs=2, batch_size=40, kept_batch_size=8)
    splits = tiny_exp.splits(0)
    inputs, zs = [], []
    pretrained.register_forward_pre_hook(lambda module, args: inputs.append(args[0].detach()))
    real = mi_regularizer.mutual_information
    monkeypatch.setattr(mi_regularizer, "mutual_information", lambda probs, z: (zs.append(z), real(probs, z))[1])
    mi_regularizer.unlearn(pretrained, splits, params, rng.generator(0, "mi"))
    trained_on = torch.cat([splits.target.x, splits.forget.x])
    n_trained = len(splits.target) + len(splits.forget)
    steps = params.epochs * -(-n_trained // params.batch_size)
    assert len(zs) == len(inputs) == steps
    forget_rows = 0
    z0_seen = []
    for x, z in zip(inputs, zs):
        n0 = int((~z).sum())
        assert torch.equal(z, torch.cat([torch.zeros(n0, dtype=torch.bool), torch.ones(8, dtype=torch.bool)]))
        assert n0 == params.batch_size or n0 == n_trained % params.batch_size  # the last batch of an epoch
        assert (row_index(x[n0:], splits.forget.x) < 0).all()  # Z = 1: no forget image
        assert (row_index(x[n0:], splits.target.x) >= 0).all()  # ... only retain + new
        where = row_index(x[:n0], trained_on)
        assert (where >= 0).all()  # Z = 0: retain + new + forget
        z0_seen.append(where)
        forget_rows += int((row_index(x[:n0], splits.forget.x) >= 0).sum())
    first_epoch = torch.cat(z0_seen[:len(z0_seen) // params.epochs])
    assert sorted(first_epoch.tolist()) == list(range(n_trained))  # an epoch = one pass over the Z = 0 data
    assert forget_rows == params.epochs * len(splits.forget)


def test_cross_entropy_reads_no_forget_label(tiny_exp, pretrained):
    """Changing every forget label changes nothing: the forget images enter only through I(Y_hat; Z)."""
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["mi_regularizer"], epochs=1)
    relabelled = dataclasses.replace(splits, forget=Part(splits.forget.x, (splits.forget.y + 1) % splits.num_slots))
    a = mi_regularizer.unlearn(copy.deepcopy(pretrained), splits, params, rng.generator(0, "mi"))
    b = mi_regularizer.unlearn(copy.deepcopy(pretrained), relabelled, params, rng.generator(0, "mi"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_the_information_term_moves_the_weights(tiny_exp, pretrained):
    """gamma scales a term that has a gradient: a negligible gamma trains a different model."""
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["mi_regularizer"], epochs=1)
    a = mi_regularizer.unlearn(copy.deepcopy(pretrained), splits, params, rng.generator(0, "mi"))
    b = mi_regularizer.unlearn(copy.deepcopy(pretrained), splits, dataclasses.replace(params, gamma=1e-9),
                               rng.generator(0, "mi"))
    gap = max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))
    assert gap > 1e-3, gap
