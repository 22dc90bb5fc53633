"""The amnesia scenario's layout (paths relative to scenarios/amnesia, the stages' working directory) and the
loading that several stages share. Bad params / inputs end through stages.base.common.stage: one line, exit 2.

models/classifier.pt (+ .json: test accuracy, outputs on no-digit images)
models/original/chain<i>.pt                      one per chain, shared by every forgotten digit
models/<oracle | method>/digit<d>/chain<i>.pt    one per forgotten digit and chain
models/<name>/runs.json                          {"digit<d>/chain<i>" or "chain<i>": wall-clock seconds}"""
from __future__ import annotations

from pathlib import Path

import torch

from unlearning.amnesia import classifier, cvae
from unlearning.amnesia.config import Config, load
from unlearning.core import io
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


def model_key(chain: int, digit: int | None = None) -> str:
    """'chain<i>' for an original, 'digit<d>/chain<i>' for a model made for one forgotten digit."""
    return f"chain{chain}" if digit is None else f"digit{digit}/chain{chain}"


def model_path(name: str, chain: int, digit: int | None = None) -> Path:
    """name: 'original' (digit None), 'oracle' or a method's name."""
    return MODELS / name / f"{model_key(chain, digit)}.pt"


def write_models(name: str, keys: list[str], results: list[tuple[bytes, float]]) -> None:
    """models/<name>/<key>.pt for each (io.state_bytes, seconds) result, and runs.json with the seconds; the
    directory appears whole or not at all (written under a temporary name)."""
    with io.atomic_path(MODELS / name) as out:
        for key, (state, _) in zip(keys, results):
            (out / key).parent.mkdir(parents=True, exist_ok=True)
            (out / f"{key}.pt").write_bytes(state)
        (out / "runs.json").write_text(io.json_text({key: round(seconds, 3) for key, (_, seconds) in
                                                     zip(keys, results)}))


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


def load_cvae(cfg: Config, name: str, chain: int, digit: int | None, image_shape: tuple[int, ...],
              device) -> cvae.CVAE:
    model = cvae.build(cfg.cvae, image_shape, chain)
    return io.load_state(model, _checked(model_path(name, chain, digit))).to(device).eval()


def load_classifier(cfg: Config, image_shape: tuple[int, ...], device) -> classifier.Classifier:
    model = classifier.build(cfg.classifier, image_shape)
    return io.load_state(model, _checked(CLASSIFIER)).to(device).eval()
