"""scenarios/layered/params.yaml -> frozen dataclasses, with the checks of unlearning.core.config: every key
required, unknown keys rejected, every error names the dotted key."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unlearning.core.config import FitConfig, parse_dataclass, positive, read_yaml, require

ASSIGNMENTS = ("random", "k-means", "adversarial")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DataParams:
    samples: int  # training points per set (null, A, B, retain)
    test_samples: int  # held-out points per set; every accuracy is measured on these
    gaussians: int  # Gaussians per set (A, B and retain each are a mixture of this many)
    assignment: str  # how the 3 * gaussians means are dealt to the sets: one of ASSIGNMENTS
    half_width: float  # the null background is uniform on [-half_width, half_width]^2
    mean_half_width: float  # Gaussian means are uniform on [-mean_half_width, mean_half_width]^2
    cov_scale: float  # covariance = cov_scale * I + cov_perturb * U^T U, U a standard normal 2x2
    cov_perturb: float

    def __post_init__(self):
        positive(self, "samples", "test_samples", "gaussians", "half_width", "mean_half_width", "cov_scale")
        require(self.cov_perturb >= 0, "cov_perturb", f"must be >= 0, got {self.cov_perturb!r}")
        require(self.assignment in ASSIGNMENTS, "assignment",
                f"unknown assignment {self.assignment!r}; allowed: {', '.join(ASSIGNMENTS)}")
        require(self.mean_half_width <= self.half_width, "mean_half_width",
                f"must be <= half_width ({self.half_width}), got {self.mean_half_width!r}")


@dataclass(frozen=True)
class ModelParams:
    grid: int  # RBF centres on a grid x grid lattice spanning the null square
    sigma: float  # RBF width: feature = exp(-|x - c|^2 / (2 sigma^2))
    hidden: tuple[int, ...]  # hidden ReLU layer widths between the RBF features and the logit; [] = logistic

    def __post_init__(self):
        require(self.grid >= 2, "grid", f"needs at least 2 centres per axis, got {self.grid!r}")
        positive(self, "sigma")
        require(all(h > 0 for h in self.hidden), "hidden", f"widths must be positive, got {list(self.hidden)}")


@dataclass(frozen=True)
class ToleranceParams:
    """How far a method's mean accuracy may lie from the oracle's and still count as the same (the equivalence
    margin of unlearning.equivalence): a difference is called different only when shown to exceed it."""

    unlearned: float  # the unlearned models (no attack) against the oracle: accuracies, e.g. 0.02 = two points
    relearned: float  # after a relearn attack, against the oracle after the same attack

    def __post_init__(self):
        for name in ("unlearned", "relearned"):
            value = getattr(self, name)
            require(0 <= value < 1, name, f"must be in [0, 1), got {value!r}")


@dataclass(frozen=True)
class AuditParams:
    """Chain i is one draw of all randomness: its own data (mixtures and points), its own init model with every
    method's models made from it, and an oracle from an independent initialisation. The methods' N values of a
    metric are judged against the oracle's N values, never against one draw."""

    chains: int  # independent chains, numbered 0 .. chains - 1 (>= 2: a distribution needs two draws)
    tolerance: ToleranceParams

    def __post_init__(self):
        require(self.chains >= 2, "chains",
                f"must be an integer >= 2 (a distribution needs two draws), got {self.chains!r}")


@dataclass(frozen=True)
class LayeredConfig:
    audit: AuditParams
    device: str  # auto | cpu | cuda
    data: DataParams
    model: ModelParams
    pretrain: FitConfig  # the init model and the retrain oracle, from scratch
    unlearn: FitConfig  # each unlearning phase (base; LU's two layers), fine-tuning the previous model
    relearn: FitConfig  # the relearn attack, fine-tuning on one set labelled 1

    @property
    def chains(self) -> tuple[int, ...]:
        """The chain indices; chain i seeds every random draw of its data and models with i."""
        return tuple(range(self.audit.chains))

    def __post_init__(self):
        require(self.device in DEVICES, "device", f"unknown device {self.device!r}; allowed: {', '.join(DEVICES)}")


def parse(raw) -> LayeredConfig:
    require(isinstance(raw, dict), "params", "params.yaml must hold a mapping")
    return parse_dataclass(LayeredConfig, raw, "")


def load(path: str | Path) -> LayeredConfig:
    return parse(read_yaml(path))
