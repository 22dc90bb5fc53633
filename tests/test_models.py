"""cnn and resnet18: shapes on 28x28x1 and 32x32x3, the features/head contract, fit trains them, and a fit that
freezes the trunk leaves BatchNorm statistics (and so the features) exactly as they were."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from unlearning.core import models, rng
from unlearning.core.config import AugmentConfig, FitConfig, ModelConfig, TrainConfig
from unlearning.core.train import fit

ARCHS = {"cnn": ModelConfig("cnn", (32,), (8, 16)), "resnet18": ModelConfig("resnet18", (), ())}
SHAPES = [(1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("shape", SHAPES, ids=["28x28x1", "32x32x3"])
@pytest.mark.parametrize("arch", ARCHS)
def test_forward_shapes_features_and_head(arch, shape):
    model = models.build(ARCHS[arch], shape, 9, seed=0).eval()
    x = torch.randn(3, *shape)
    feats = model.features(x)
    assert isinstance(model.head, torch.nn.Linear) and model.head.out_features == 9
    assert feats.shape == (3, model.head.in_features) == (3, {"cnn": 32, "resnet18": 512}[arch])
    assert model(x).shape == (3, 9)
    torch.testing.assert_close(model.head(feats), model(x))


def test_init_is_a_function_of_the_seed():
    a, b, c = (models.build(ARCHS["cnn"], (3, 32, 32), 9, seed=s) for s in (0, 0, 1))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.head.weight, c.head.weight)


@pytest.mark.parametrize("shape", SHAPES, ids=["28x28x1", "32x32x3"])
@pytest.mark.parametrize("arch", ARCHS)
def test_fit_trains_conv_nets(arch, shape):
    """Full-batch steps on a few images: the training loss must fall well below its start (the cnn is cheap: more
    steps; resnet18 is not: fewer steps on fewer images)."""
    n, steps = {"cnn": (4, 40), "resnet18": (2, 6)}[arch]
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, *shape, generator=gen), torch.arange(n)
    model = models.build(ARCHS[arch], shape, 4, seed=0)
    seen = []

    def loss(model, xb, yb, extra):
        value = F.cross_entropy(model(xb), yb)
        seen.append(value.item())
        return value

    fit(model, x, y, FitConfig(epochs=1, batch_size=n, lr=1e-2), rng.generator(0, "t"), loss=loss, steps=steps)
    assert len(seen) == steps and seen[-1] < 0.5 * seen[0], seen


def test_augmented_fit_trains_and_is_deterministic():
    shape, cfg = (3, 32, 32), TrainConfig(epochs=3, batch_size=8, lr=3e-3, augment=AugmentConfig(pad=4, flip=True))
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(16, *shape, generator=gen), torch.arange(16) % 4
    runs = [fit(models.build(ARCHS["cnn"], shape, 4, seed=0), x, y, cfg, rng.generator(0, "a")) for _ in range(2)]
    plain = fit(models.build(ARCHS["cnn"], shape, 4, seed=0), x, y, FitConfig(3, 8, 3e-3), rng.generator(0, "a"))
    assert torch.equal(runs[0].head.weight, runs[1].head.weight)
    assert not torch.equal(runs[0].head.weight, plain.head.weight)  # the augmentation did reach the batches


def test_frozen_trunk_keeps_batchnorm_statistics():
    model = models.build(ARCHS["cnn"], (1, 28, 28), 4, seed=0)
    x, y = torch.randn(32, 1, 28, 28), torch.arange(32) % 4
    fit(model, x, y, FitConfig(1, 16, 1e-3), rng.generator(0, "p"))  # pretrain: running stats move
    before = copy.deepcopy(model)
    fit(model, x + 1.0, y, FitConfig(2, 16, 1e-2), rng.generator(0, "h"),
        trainable={"head.weight": True, "head.bias": True})
    for (name, a), b in zip(before.state_dict().items(), model.state_dict().values()):
        assert name.startswith("head.") or torch.equal(a, b), name
    assert not torch.equal(before.head.weight, model.head.weight)
    torch.testing.assert_close(before.features(x), model.features(x), rtol=0, atol=0)


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


@pytest.mark.parametrize("device", DEVICES)
def test_conv_nets_train_channels_last_and_predict_the_same(device):
    """fit turns a conv net channels_last (NHWC); predict gives the logits of a plain NCHW forward pass."""
    from unlearning.core.train import predict

    model = models.build(ARCHS["cnn"], (3, 32, 32), 4, seed=0).to(device)
    x, y = torch.randn(64, 3, 32, 32, device=device), (torch.arange(64) % 4).to(device)
    cfg = TrainConfig(epochs=3, batch_size=16, lr=3e-3, augment=AugmentConfig(pad=2, flip=True))
    fit(model, x, y, cfg, rng.generator(0, "c"))
    assert model.body[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    logits = predict(model, x, batch_size=24)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        plain = model(x.contiguous()).float()
    torch.testing.assert_close(logits, plain, rtol=0.02, atol=0.02)
