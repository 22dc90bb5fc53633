"""Datasets as tensors, the fixed stratified split, the manifest check, and the scenario's splits."""
from __future__ import annotations

import pytest
import torch

from unlearning.core import config, data
from unlearning.core.io import InputError


@pytest.mark.parametrize("name,shape,n", [("digits", (1, 8, 8), 1797), ("mnist-5k", (1, 28, 28), 5000)])
def test_sources_give_uint8_images_and_a_stratified_split(name, shape, n):
    tensors = data.build(name, 0.2)
    assert tensors["train_x"].dtype == torch.uint8 and tuple(tensors["train_x"].shape[1:]) == shape
    assert len(tensors["train_y"]) + len(tensors["test_y"]) == n
    train_share = torch.bincount(tensors["train_y"]) / torch.bincount(torch.cat([tensors["train_y"],
                                                                                tensors["test_y"]]))
    assert torch.allclose(train_share, torch.full_like(train_share, 0.8), atol=0.01)
    again = data.build(name, 0.2)
    assert torch.equal(again["test_x"], tensors["test_x"])  # the split never depends on anything else


def test_manifest_mismatch_is_refused(tmp_path):
    path = tmp_path / "digits.pt"
    torch.save(data.build("digits", 0.2), path)
    assert len(data.load(path, {"sha256": data.sha256(path)})["train_y"]) > 0
    with pytest.raises(InputError, match="digits.pt"):
        data.load(path, {"sha256": "0" * 64})


def test_splits_reuse_the_forgotten_slot(tiny_exp):
    cfg, train = tiny_exp.cfg.scenario, tiny_exp.splits(0)
    slot = cfg.slot(cfg.forget)
    assert train.num_slots == 9 and cfg.slot(cfg.learn) == slot == train.forget_slot
    assert (train.forget.y == slot).all() and (train.new.y == slot).all()
    assert not (train.retain.y == slot).any()
    test = tiny_exp.splits(0, "test")
    assert len(test.forget) + len(test.retain) + len(test.new) == len(tiny_exp.tensors["test_y"])


def test_normaliser_uses_the_training_split(tiny_exp):
    x = tiny_exp.tensors["train_x"]
    assert abs(x.mean().item()) < 1e-4 and abs(x.std().item() - 1) < 1e-3


def test_config_and_sources_agree_on_the_datasets():
    from unlearning.core import datasets

    assert set(config.DATASETS) == set(datasets.POOLED) | set(datasets.OFFICIAL)
    assert set(config.OFFICIAL_SPLIT) == set(datasets.OFFICIAL)


def test_normaliser_is_per_channel_and_matches_torch():
    gen = torch.Generator().manual_seed(0)
    x = torch.stack([torch.randint(0, 64, (50, 6, 6), generator=gen),
                     torch.randint(100, 256, (50, 6, 6), generator=gen)], dim=1).to(torch.uint8)  # [50, 2, 6, 6]
    norm = data.Normaliser.fit(x, chunk=7)  # chunks that do not divide N
    pixels = x.float().div(255).transpose(0, 1).reshape(2, -1)
    mean, std = (torch.tensor(v, dtype=torch.float64) for v in (norm.mean, norm.std))
    torch.testing.assert_close(mean, pixels.mean(1).double(), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(std, pixels.std(1).double(), rtol=1e-5, atol=1e-7)
    out = norm(x)
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(2), rtol=0, atol=1e-5)
    torch.testing.assert_close(out.std(dim=(0, 2, 3)), torch.ones(2), rtol=0, atol=1e-4)


