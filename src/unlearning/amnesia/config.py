"""scenarios/amnesia/params.yaml -> frozen dataclasses, with the checks and error messages of unlearning.core.config
(every key required, unknown keys rejected, errors name the dotted key)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unlearning.core.config import (DEVICES, DatasetConfig, FitConfig, parse_dataclass, positive, read_yaml,
                               require)

NUM_LABELS = 10  # both datasets (mnist-5k, digits) hold the digits 0-9


@dataclass(frozen=True)
class CVAEConfig(FitConfig):
    """The conditional VAE and its training (original model and oracle)."""

    hidden: tuple[int, ...]  # encoder widths; the decoder mirrors them
    latent: int  # size of z

    def __post_init__(self):
        super().__post_init__()
        require(len(self.hidden) >= 1 and all(h > 0 for h in self.hidden), "hidden",
                f"needs one or more positive widths, got {list(self.hidden)}")
        positive(self, "latent")


@dataclass(frozen=True)
class ClassifierConfig(FitConfig):
    """The independent evaluation classifier (trained on real train images of all ten labels)."""

    hidden: tuple[int, ...]  # MLP hidden widths
    seed: int  # one classifier judges every seed's models, so it has its own seed

    def __post_init__(self):
        super().__post_init__()
        require(len(self.hidden) >= 1 and all(h > 0 for h in self.hidden), "hidden",
                f"needs one or more positive widths, got {list(self.hidden)}")


@dataclass(frozen=True)
class EvaluateConfig:
    samples_per_label: int  # images generated per label for the classifier to judge

    def __post_init__(self):
        positive(self, "samples_per_label")


@dataclass(frozen=True)
class RelearnConfig:
    """The relearn attack: ELBO training on k real train images of the forgotten label."""

    samples: tuple[int, ...]  # the k values (one attack each)
    steps: int  # full-batch Adam steps per attack
    lr: float  # Adam learning rate of the attacker

    def __post_init__(self):
        require(len(self.samples) >= 1 and all(k > 0 for k in self.samples), "samples",
                f"needs one or more positive sample counts, got {list(self.samples)}")
        positive(self, "steps", "lr")


@dataclass(frozen=True)
class PlotConfig:
    columns: int  # generated samples per row (one row per label) in the sample grids

    def __post_init__(self):
        positive(self, "columns")


@dataclass(frozen=True)
class Config:
    seeds: tuple[int, ...]  # one original/oracle/unlearned cVAE per seed; metrics report mean and 95 % CI
    device: str  # auto | cpu | cuda
    threads: int  # torch CPU threads; results differ in the last bits between thread counts
    data: DatasetConfig
    forget: int  # the label the cVAE must stop drawing
    cvae: CVAEConfig
    classifier: ClassifierConfig
    methods: dict  # method name -> its frozen Params (see unlearning.amnesia.methods)
    evaluate: EvaluateConfig
    relearn: RelearnConfig
    plot: PlotConfig

    def __post_init__(self):
        require(len(self.seeds) >= 1 and len(set(self.seeds)) == len(self.seeds), "seeds",
                f"needs one or more distinct integers, got {list(self.seeds)}")
        require(self.device in DEVICES, "device", f"unknown device {self.device!r}; allowed: {', '.join(DEVICES)}")
        positive(self, "threads")
        require(0 <= self.forget < NUM_LABELS, "forget", f"must be a label in 0..{NUM_LABELS - 1}, got {self.forget}")

    @property
    def retained(self) -> tuple[int, ...]:
        return tuple(c for c in range(NUM_LABELS) if c != self.forget)


def _parse_methods(raw) -> dict:
    from unlearning.amnesia.methods import METHODS  # late import: methods import this module

    require(isinstance(raw, dict) and bool(raw), "methods", "must be a non-empty mapping of method name -> params")
    parsed = {}
    for name, block in raw.items():
        require(name in METHODS, f"methods.{name}", f"unknown method; allowed: {', '.join(sorted(METHODS))}")
        parsed[name] = parse_dataclass(METHODS[name].Params, block, f"methods.{name}")
    return parsed


def parse(raw) -> Config:
    require(isinstance(raw, dict), "params", "params.yaml must hold a mapping")
    require("methods" in raw, "methods", "missing key")
    return parse_dataclass(Config, {**raw, "methods": _parse_methods(raw["methods"])}, "")


def load(path: str | Path = "params.yaml") -> Config:
    return parse(read_yaml(path))
