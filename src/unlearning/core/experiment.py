"""What every stage needs: the validated config, the dataset as normalised tensors on the device, the splits
of a chain, and fresh or saved models. No paths are fixed here; stages pass them in.

Three sides: `train` (what models and methods train on), `val` (a stratified share of the training split held out
for tuning: data.validation_fraction) and `test`. Only an experiment opened with test=True holds the test side:
the evaluation stages (relearn, evaluate) open it so; tuning code (bench sweeps) cannot read it by accident."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from unlearning.core import data as datasets
from unlearning.core import io, models
from unlearning.core.config import Config
from unlearning.core.splits import Splits, make_splits
from unlearning.core.train import resolve_device


@dataclass
class Experiment:
    cfg: Config
    device: torch.device
    # <side>_x float32 [N, C, H, W] normalised, <side>_y int64 [N], for side in train, val (and test)
    tensors: dict[str, torch.Tensor]
    _splits: dict[str, Splits] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, cfg: Config, data_path: str | Path, manifest_path: str | Path | None = None,
             test: bool = False) -> "Experiment":
        manifest = io.read_json(manifest_path) if manifest_path else None
        raw = datasets.load(Path(data_path), manifest)
        held_out = datasets.validation_rows(raw["train_y"], cfg.data.validation_fraction)  # bool [N_train]
        normalise = datasets.Normaliser.fit(raw["train_x"][~held_out])
        device = resolve_device(cfg.device)
        tensors = {
            "train_x": normalise(raw["train_x"][~held_out]).to(device), "train_y": raw["train_y"][~held_out],
            "val_x": normalise(raw["train_x"][held_out]).to(device), "val_y": raw["train_y"][held_out],
        }
        if test:
            tensors.update(test_x=normalise(raw["test_x"]).to(device), test_y=raw["test_y"])
        return cls(cfg, device, tensors)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.tensors["train_x"].shape[1:])

    def splits(self, seed: int, side: str = "train") -> Splits:
        """side: 'train' (what methods and pretraining see), 'val' (tuning) or 'test' (evaluation only)."""
        if f"{side}_x" not in self.tensors:
            raise RuntimeError(f"the {side} split is not open here: only the evaluation stages read the test split")
        if side not in self._splits:  # the same for every chain (splits.py): made once per side
            x, y = self.tensors[f"{side}_x"], self.tensors[f"{side}_y"]
            self._splits[side] = make_splits(x.cpu(), y, self.cfg.scenario, side).to(self.device)
        return self._splits[side]

    def evaluation(self, seed: int) -> Splits:
        """What models are scored on: the audit.split side (test, or val for tuning), except that in subset
        forgetting the forgotten images are training images (no held-out image was forgotten), so `forget` is
        the train side's forget part; the target there is the retrains' accuracy on them, not zero."""
        test = self.splits(seed, self.cfg.audit.split)  # the test side raises unless opened with test=True
        if self.cfg.scenario.kind != "forget_subset":
            return test
        return replace(test, forget=self.splits(seed, "train").forget)

    def new_model(self, seed: int, role: str = "original") -> torch.nn.Module:
        """A freshly initialised model of chain `seed`. role 'original' or 'retrain': the two draw their
        initialisations independently, so that a retrain shares nothing with its chain's original model but
        the data."""
        names = () if role == "original" else (role,)
        return models.build(self.cfg.model, self.input_shape, self.cfg.scenario.num_slots, seed,
                            *names).to(self.device)

    def load_model(self, path: str | Path, seed: int) -> torch.nn.Module:
        return io.load_state(self.new_model(seed), path).to(self.device)
