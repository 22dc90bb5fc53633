"""Dataset sources. Each gives uint8 images [N, C, H, W] and int64 labels [N].

POOLED sources have no official test split (data.build splits them by `data.test_fraction`);
OFFICIAL sources come as {train_x, train_y, test_x, test_y} with the split their authors published.
"""
from __future__ import annotations

from unlearning.core.datasets import remote, small

POOLED = {"mnist-5k": small.mnist_5k, "digits": small.digits, "fashion-mnist-5k": remote.fashion_mnist_5k}
OFFICIAL = {"fashion-mnist": remote.fashion_mnist, "mnist": remote.mnist, "emnist": remote.emnist,
            "cifar10": remote.cifar10}


def origin(name: str) -> str:
    if name == "fashion-mnist-5k":
        return remote.origin("fashion-mnist")
    return "installed python package" if name in POOLED else remote.origin(name)
