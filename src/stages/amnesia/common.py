"""The amnesia scenario's layout (paths relative to scenarios/amnesia, the stages' working directory) and the
loading that several stages share. Bad params / inputs end through stages.base.common.stage: one line, exit 2."""
from __future__ import annotations

from pathlib import Path

import torch

from unlearning.core import io
from unlearning.amnesia import classifier, cvae
from unlearning.amnesia.config import Config, load
from unlearning.core.io import InputError
from unlearning.core.train import resolve_device

PARAMS = Path("params.yaml")
MODELS = Path("models")
CLASSIFIER = MODELS / "classifier.pt"
METRICS = Path("metrics")
PLOTS = Path("plots")


def config() -> Config:
    """The validated params; also applies `threads` (OpenMP threads that wait for a core another job holds
    spin instead of working: on a shared 2-core machine 2 threads ran this pipeline 7x slower than 1)."""
    cfg = load(PARAMS)
    torch.set_num_threads(cfg.threads)
    return cfg


def data_path(cfg: Config) -> Path:
    return Path("data") / f"{cfg.data.name}.pt"


def model_path(name: str, seed: int, suffix: str = ".pt") -> Path:
    """name: 'original', 'oracle' or a method's name."""
    return MODELS / name / f"seed{seed}{suffix}"


def load_images(cfg: Config) -> dict[str, torch.Tensor]:
    """{train_x, test_x: float [N, C, H, W] in [0, 1], train_y, test_y: int64 [N]} on the configured device."""
    path = data_path(cfg)
    raw = io.load_tensors(path, "run the data stage: `dvc repro -f data`")
    device = resolve_device(cfg.device)
    return {k: (v.float() / 255.0 if k.endswith("_x") else v).to(device) for k, v in raw.items()}


def _checked(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path}: model file not found (run the stage that writes it)")
    return path


def load_cvae(cfg: Config, name: str, seed: int, image_shape: tuple[int, ...], device) -> cvae.CVAE:
    model = cvae.build(cfg.cvae, image_shape, seed)
    return io.load_state(model, _checked(model_path(name, seed))).to(device).eval()


def load_classifier(cfg: Config, image_shape: tuple[int, ...], device) -> classifier.Classifier:
    model = classifier.build(cfg.classifier, image_shape)
    return io.load_state(model, _checked(CLASSIFIER)).to(device).eval()
