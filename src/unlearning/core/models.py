"""Model builders. Every model exposes `features(x)` (penultimate activations) and a final linear `head`,
so that probes and head-level methods work on every architecture."""
from __future__ import annotations

import torch
from torch import nn

from unlearning.core.config import ModelConfig
from unlearning.core.rng import seeded


def dense(width: int, hidden: tuple[int, ...]) -> tuple[list[nn.Module], int]:
    """[Linear -> ReLU] per hidden width, starting from `width` features; returns the layers and their output width."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return layers, width


class Classifier(nn.Module):
    """body (images -> penultimate features) -> Linear head. Every architecture is one of these."""

    def __init__(self, body: nn.Sequential, width: int, num_classes: int):
        super().__init__()
        self.body = body
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> penultimate activations [N, width]"""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> logits [N, num_classes]"""
        return self.head(self.body(x))


class MLP(Classifier):
    """Flatten -> [Linear -> ReLU] * len(hidden) -> Linear head (the source studies' MLP family).
    Parameter names (body.1.weight, ..., head.weight) are those of the first version: checkpoints still load."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], num_classes: int):
        layers, width = dense(in_features, hidden)
        super().__init__(nn.Sequential(nn.Flatten(), *layers), width, num_classes)


class ConvNet(Classifier):
    """A conv trunk ([N, C, H, W] -> [N, trunk_width]), then hidden Linear -> ReLU layers, then the head."""

    def __init__(self, trunk: nn.Module, trunk_width: int, hidden: tuple[int, ...], num_classes: int):
        layers, width = dense(trunk_width, hidden)
        super().__init__(nn.Sequential(trunk, *layers), width, num_classes)


def conv_trunk(in_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """[Conv3x3 -> BatchNorm -> ReLU -> MaxPool 2x2] per width, then global average pooling: [N, C, H, W] ->
    [N, channels[-1]] for any H, W >= 2 ** len(channels) (28x28 digits and 32x32 CIFAR alike)."""
    layers: list[nn.Module] = []
    for width in channels:
        layers += [nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                   nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        in_channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def resnet18_trunk(in_channels: int) -> nn.Module:
    """torchvision's ResNet-18 for small images: a 3x3 stride-1 stem and no max-pool (a 7x7 stride-2 stem and a
    pool would shrink 32x32 inputs to 8x8 before the first block); its fc is replaced by our head, so the trunk
    returns the 512 pooled features [N, 512]."""
    from torchvision.models import resnet18  # late import: only resnet runs pay for torchvision.models

    net = resnet18()
    net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")  # torchvision's conv init
    net.maxpool = nn.Identity()
    net.fc = nn.Identity()
    return net


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """Linear layers in forward order (the head last): what `cf_k` and `last_layers` count from the end."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def build(cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int, seed: int, *names: str) -> nn.Module:
    """A freshly initialised model for inputs [N, *input_shape]; the initialisation is a pure function of `seed`
    and `names` (e.g. build(..., seed, "retrain") draws independently of build(..., seed))."""
    with seeded(seed, "init", *names):
        if cfg.arch == "mlp":
            return MLP(int(torch.tensor(input_shape).prod()), cfg.hidden, num_classes)
        if cfg.arch == "cnn":
            return ConvNet(conv_trunk(input_shape[0], cfg.channels), cfg.channels[-1], cfg.hidden, num_classes)
        if cfg.arch == "resnet18":
            return ConvNet(resnet18_trunk(input_shape[0]), 512, cfg.hidden, num_classes)
    raise ValueError(f"unknown architecture {cfg.arch!r}")
