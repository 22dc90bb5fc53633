"""download: dataset source -> data/<name>.pt (uint8 images, int64 labels, train/test) + sha256 manifest.

Sources that download do so into a temporary directory; data/ is written only once the tensors exist, and
atomically, so a failed or corrupted download (one line on stderr, exit 2) leaves nothing in data/."""
from __future__ import annotations

import torch

from stages.base.common import PARAMS, data_path, manifest_path, stage
from unlearning.core import config, data, io


@stage
def main() -> None:
    cfg = config.load(PARAMS, methods=())
    tensors = data.build(cfg.data.name, cfg.data.test_fraction)
    target = data_path(cfg)
    with io.atomic_path(target) as tmp:
        io.torch_save(tensors, tmp)  # a full disk: one line naming data/<name>.pt
        digest = data.sha256(tmp)  # of the file that becomes `target` when the stage succeeds
    io.write_json(manifest_path(cfg), {
        "dataset": cfg.data.name,
        "source": data.origin(cfg.data.name),
        "sha256": digest,
        "train": len(tensors["train_y"]),
        "test": len(tensors["test_y"]),
        "image_shape": list(tensors["train_x"].shape[1:]),
        "train_counts": torch.bincount(tensors["train_y"]).tolist(),
    })


if __name__ == "__main__":
    main()
