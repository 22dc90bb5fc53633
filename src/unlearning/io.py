"""Atomic writes: a killed stage must never leave a half-written file that DVC would then cache."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch


class InputError(RuntimeError):
    """A missing or corrupt input file; the message starts with the file's path."""


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary sibling path; on success it replaces `path` (file or directory), on error it vanishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield tmp
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_json(path: str | Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found (run the stage that writes it)")
    return path


def read_json(path: str | Path):
    return json.loads(_existing(path).read_text())


def save_state(model: torch.nn.Module, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)


def load_state(model: torch.nn.Module, path: str | Path) -> torch.nn.Module:
    model.load_state_dict(torch.load(_existing(path), map_location="cpu", weights_only=True))
    return model
