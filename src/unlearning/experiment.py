"""What every stage needs: the validated config, the dataset as normalised tensors on the device, the splits
of a seed, and fresh or saved models. No paths are fixed here; stages pass them in."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from unlearning import data as datasets
from unlearning import io, models
from unlearning.config import Config
from unlearning.splits import Splits, make_splits
from unlearning.train import resolve_device


@dataclass
class Experiment:
    cfg: Config
    device: torch.device
    tensors: dict[str, torch.Tensor]  # train_x/test_x float32 [N, C, H, W] normalised; train_y/test_y int64 [N]

    @classmethod
    def open(cls, cfg: Config, data_path: str | Path, manifest_path: str | Path | None = None) -> "Experiment":
        manifest = io.read_json(manifest_path) if manifest_path else None
        raw = datasets.load(Path(data_path), manifest)
        normalise = datasets.Normaliser.fit(raw["train_x"])
        device = resolve_device(cfg.device)
        tensors = {
            "train_x": normalise(raw["train_x"]).to(device), "train_y": raw["train_y"],
            "test_x": normalise(raw["test_x"]).to(device), "test_y": raw["test_y"],
        }
        return cls(cfg, device, tensors)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.tensors["train_x"].shape[1:])

    def splits(self, seed: int, side: str = "train") -> Splits:
        """side: 'train' (what methods and pretraining see) or 'test' (evaluation only)."""
        x, y = self.tensors[f"{side}_x"], self.tensors[f"{side}_y"]
        return make_splits(x.cpu(), y, self.cfg.scenario, seed, side).to(self.device)

    def evaluation(self, seed: int) -> Splits:
        """What models are scored on: the test side, except that in subset forgetting the forgotten images are
        training images (no test image was forgotten), so `forget` is the train side's forget part; the
        target there is the oracle's accuracy on them, not zero."""
        test = self.splits(seed, "test")
        if self.cfg.scenario.kind != "forget_subset":
            return test
        return replace(test, forget=self.splits(seed, "train").forget)

    def new_model(self, seed: int) -> torch.nn.Module:
        return models.build(self.cfg.model, self.input_shape, self.cfg.scenario.num_slots, seed).to(self.device)

    def load_model(self, path: str | Path, seed: int) -> torch.nn.Module:
        return io.load_state(self.new_model(seed), path).to(self.device)
