"""scenarios/amnesia/params.yaml -> frozen dataclasses, with the checks and error messages of unlearning.core.config
(every key required, unknown keys rejected, errors name the dotted key)."""
from __future__ import annotations

import dataclasses
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
    """The independent judge: trained on real train images of all ten labels, plus images that hold no digit
    (unlearning.amnesia.classifier), on which it learns to answer 'any of the ten, equally'."""

    hidden: tuple[int, ...]  # MLP hidden widths
    members: int  # MLPs averaged in probability (an ensemble)
    pad: int  # random shifts of up to `pad` pixels of every real training batch (0 = none)
    outlier_weight: float  # weight of the no-digit term (0: the uncalibrated judge of the first version)
    seed: int  # one classifier judges every chain's models, so it has its own seed

    def __post_init__(self):
        super().__post_init__()
        require(len(self.hidden) >= 1 and all(h > 0 for h in self.hidden), "hidden",
                f"needs one or more positive widths, got {list(self.hidden)}")
        positive(self, "members")
        require(self.pad >= 0, "pad", f"must be >= 0, got {self.pad!r}")
        require(self.outlier_weight >= 0, "outlier_weight", f"must be >= 0, got {self.outlier_weight!r}")


@dataclass(frozen=True)
class ToleranceConfig:
    """|method - oracle| (difference of the means over chains) that matters; a smaller one is 'equivalent'."""

    forget_entropy: float  # nats (the scale is 0..ln 10 = 2.303)
    forget_prob: float  # shares in [0, 1]
    retained_acc: float
    retained_min_acc: float
    relearn_forget_prob: float  # every relearn_k<K>_forget_prob

    def __post_init__(self):
        for f in dataclasses.fields(self):
            require(getattr(self, f.name) >= 0, f.name, f"must be >= 0, got {getattr(self, f.name)!r}")

    def of(self, metric: str) -> float:
        return self.relearn_forget_prob if metric.startswith("relearn_") else getattr(self, metric)


@dataclass(frozen=True)
class EvaluateConfig:
    samples_per_label: int  # images generated per label for the classifier to judge
    reference_samples: int  # no-digit images (noise, surrogate) the judge's calibration is checked on
    tolerance: ToleranceConfig

    def __post_init__(self):
        positive(self, "samples_per_label", "reference_samples")


@dataclass(frozen=True)
class RelearnConfig:
    """The relearn attack: ELBO training on k real train images of the forgotten label."""

    samples: tuple[int, ...]  # the k values (one attack each)
    steps: int  # full-batch Adam steps per attack
    lr: float  # Adam learning rate of the attacker
    chains: int  # the first K chains get the attack (it is most of the evaluation's time)

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
    # chain i: an original cVAE from its own initialisation, each method's forgetting of it and a retrain (oracle)
    # from an independent initialisation, for every forgotten digit; intervals are over chains
    chains: int
    device: str  # auto | cpu | cuda
    threads: int  # torch CPU threads; results differ in the last bits between thread counts
    data: DatasetConfig
    forget: tuple[int, ...]  # the digits to forget, one request each (a bare integer means one digit)
    cvae: CVAEConfig
    classifier: ClassifierConfig
    methods: dict  # method name -> its frozen Params (see unlearning.amnesia.methods)
    evaluate: EvaluateConfig
    relearn: RelearnConfig
    plot: PlotConfig

    def __post_init__(self):
        require(self.chains >= 2, "chains", f"must be an integer >= 2 (an interval needs two draws), "
                                            f"got {self.chains!r}")
        require(self.device in DEVICES, "device", f"unknown device {self.device!r}; allowed: {', '.join(DEVICES)}")
        positive(self, "threads")
        require(len(self.forget) >= 1 and len(set(self.forget)) == len(self.forget), "forget",
                f"needs one or more distinct digits, got {list(self.forget)}")
        require(2 <= self.relearn.chains <= self.chains, "relearn.chains",
                f"must be an integer from 2 to chains ({self.chains}), got {self.relearn.chains!r}")
        for i, digit in enumerate(self.forget):
            require(0 <= digit < NUM_LABELS, f"forget[{i}]", f"must be a label in 0..{NUM_LABELS - 1}, got {digit}")


def retained(forget: int) -> tuple[int, ...]:
    """Every label but the forgotten one."""
    return tuple(c for c in range(NUM_LABELS) if c != forget)


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
    raw = {**raw, "methods": _parse_methods(raw["methods"])}
    # `dvc exp run -S forget=3` writes a bare integer: one request (bool is an int in Python, and not a digit)
    if isinstance(raw.get("forget"), int) and not isinstance(raw["forget"], bool):
        raw["forget"] = [raw["forget"]]
    return parse_dataclass(Config, raw, "")


def load(path: str | Path = "params.yaml") -> Config:
    return parse(read_yaml(path))
