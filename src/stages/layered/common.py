"""The layout of scenarios/layered (paths relative to that folder) and what its stages share."""
from __future__ import annotations

import copy
import time
from pathlib import Path

import torch

from unlearning.core import io
from unlearning.core.io import InputError
from unlearning.layered import config, phases
from unlearning.layered.model import RBFEnsemble
from unlearning.core.train import resolve_device

PARAMS = Path("params.yaml")
DATA = Path("data/gmm.pt")
MANIFEST = Path("data/gmm.json")
METRICS = Path("metrics")
PLOTS = Path("plots")
# the directory of each stage's checkpoints (one DVC output each)
STAGE_DIRS = {"pretrain": Path("models/pretrained"), "oracle": Path("models/oracle"),
              "unlearn": Path("models/unlearned"), "relearn": Path("models/relearned")}
STAGE_PHASES = {"pretrain": ["init"], "oracle": ["oracle"],
                "unlearn": [n for n, p in phases.PHASES.items() if p.block == "unlearn"],
                "relearn": [n for n, p in phases.PHASES.items() if p.block == "relearn"]}


def load_config() -> config.LayeredConfig:
    # Batches of 32 points are far too small for intra-op threads; on a shared 2-core machine the
    # threads' spin-waiting made every step ~10x slower than one thread.
    torch.set_num_threads(1)
    return config.load(PARAMS)


def checkpoint_path(name: str) -> Path:
    stage = next(s for s, names in STAGE_PHASES.items() if name in names)
    return STAGE_DIRS[stage] / f"{name}.pt"


def load_points(cfg: config.LayeredConfig, split: str) -> dict:
    """role -> [S, n, 2] (S chains) on the configured device, for split 'train' or 'test'."""
    data = io.load_tensors(DATA, "run the download stage: `dvc repro -f download`")
    if data.get("chains") != list(cfg.chains):
        raise InputError(f"{DATA}: holds chains {data.get('chains')}, params ask for {list(cfg.chains)} "
                         "(audit.chains); rerun download")
    device = resolve_device(cfg.device)
    return {role: x.to(device) for role, x in data["points"][split].items()}


def new_model(cfg: config.LayeredConfig, stream: str = "init") -> RBFEnsemble:
    """A fresh ensemble of every chain; stream names its draw of initial weights (RBFEnsemble)."""
    return RBFEnsemble(cfg.model, cfg.data.half_width, cfg.chains, stream).to(resolve_device(cfg.device))


def load_model(cfg: config.LayeredConfig, name: str) -> RBFEnsemble:
    path = checkpoint_path(name)
    if not path.exists():
        raise InputError(f"{path}: checkpoint not found (run the stage that trains {name!r})")
    return io.load_state(new_model(cfg), path).to(resolve_device(cfg.device))


def train_stage(stage: str) -> None:
    """Train every phase of a stage, each from its start checkpoint (trained by this stage or loaded),
    and write the stage's directory: <phase>.pt per phase and seconds.json (wall time per phase)."""
    cfg = load_config()
    points = load_points(cfg, "train")
    trained, seconds = {}, {}
    with io.atomic_path(STAGE_DIRS[stage]) as out:
        out.mkdir()
        for name in STAGE_PHASES[stage]:
            phase = phases.PHASES[name]
            if phase.start is None:  # init and the oracle: each its own initial weights
                model = new_model(cfg, stream=name)
            elif phase.start in trained:  # trained earlier in this stage (LU's second layer)
                model = copy.deepcopy(trained[phase.start])
            else:
                model = load_model(cfg, phase.start)
            start = time.perf_counter()
            phases.run(model, points, phase, getattr(cfg, phase.block), cfg.chains)
            seconds[name] = round(time.perf_counter() - start, 3)
            io.save_state(model, out / f"{name}.pt")
            trained[name] = model
        io.write_json(out / "seconds.json", seconds)
