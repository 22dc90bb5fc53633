"""Atomic writes and checked reads of the files stages exchange.

A killed stage must never leave a half-written file that DVC would then cache, nor a temporary one inside an
output or a dependency: writes go to a temporary path under TEMP_ROOT (the stage sets it to the workspace's
`.tmp/`, which no stage reads or writes as an output) and are renamed into place once complete. A file that cannot
be read (missing, truncated, not what it should be) is an InputError naming it and saying how to recover."""
from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import torch

# Where temporaries live; None = beside the target (library use outside a stage, e.g. tests). Same file system as
# the outputs, so that the final rename is atomic.
TEMP_ROOT: Path | None = None


class InputError(RuntimeError):
    """A missing or corrupt input file; the message starts with the file's path."""


def clean_stale_temps() -> None:
    """Remove temporaries of processes that no longer exist (a stage killed with SIGKILL cannot clean up)."""
    if TEMP_ROOT is None or not TEMP_ROOT.is_dir():
        return
    for entry in TEMP_ROOT.iterdir():
        pid = entry.name.split(".", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


# (temporary, target) renames that all_or_nothing holds back until its block succeeds, and the process that owns
# them (a forked parallel_map worker writes into its parent's temporary directory, so it renames at once)
_PENDING: list[tuple[Path, Path]] | None = None
_PENDING_PID: int | None = None


def _replace(tmp: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)


def _target_name(filename, tmp: Path, path: Path) -> str:
    """The output a failed write was making: `path`, or the file inside it where the temporary is a directory."""
    if filename is None or not Path(filename).is_relative_to(tmp):
        return str(path) if filename is None else str(filename)
    return str(path / Path(filename).relative_to(tmp))


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path; on success it replaces `path` (file or directory), on error it vanishes.
    Inside all_or_nothing the replacement waits for the end of that block."""
    path = Path(path)
    root = path.parent if TEMP_ROOT is None else TEMP_ROOT
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}.{path.name}.", dir=root)) / path.name
    deferred = False
    try:
        try:
            yield tmp
        except OSError as err:  # a full disk, say: name the output, not its temporary (write() names no file)
            raise OSError(err.errno, err.strerror or str(err), _target_name(err.filename, tmp, path)) from None
        if _PENDING is not None and _PENDING_PID == os.getpid():
            _PENDING.append((tmp, path))
            deferred = True
        else:
            _replace(tmp, path)
    finally:
        if not deferred:
            shutil.rmtree(tmp.parent, ignore_errors=True)


@contextmanager
def all_or_nothing():
    """A stage's outputs appear together or not at all: every atomic_path of the block is renamed into place only
    when the whole block succeeds (a full disk while writing the last file leaves none of them)."""
    global _PENDING, _PENDING_PID
    _PENDING, _PENDING_PID = [], os.getpid()
    try:
        yield
        for tmp, path in _PENDING:
            _replace(tmp, path)
    finally:
        for tmp, _ in _PENDING:
            shutil.rmtree(tmp.parent, ignore_errors=True)
        _PENDING, _PENDING_PID = None, None


def _no_nan(obj):
    """JSON has no NaN or Infinity: a non-finite float becomes null (a metric that is undefined here)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_nan(v) for v in obj]
    return obj


def json_text(obj) -> str:
    return json.dumps(_no_nan(obj), indent=2, allow_nan=False) + "\n"


def write_json(path: str | Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json_text(obj))


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _existing(path: str | Path, hint: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found ({hint})")
    return path


def read_json(path: str | Path, hint: str = "run the stage that writes it"):
    path = _existing(path, hint)
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: unreadable or truncated JSON ({err.__class__.__name__}); {hint}") from None


def load_tensors(path: str | Path, hint: str = "run the stage that writes it"):
    """torch.load with weights_only=True; a truncated or foreign file is an InputError naming it."""
    path = _existing(path, hint)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, OSError, pickle/zip errors for a damaged file
        raise InputError(f"{path}: unreadable or truncated ({err.__class__.__name__}); {hint}") from None


def state_bytes(model: torch.nn.Module) -> bytes:
    """The model's state dict as the bytes of a .pt file: what a chain task returns to its stage (a Dask worker
    shares no file system with it), written by write_bytes exactly as save_state writes it."""
    buffer = BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def torch_save(obj, tmp: Path) -> None:
    """torch.save(obj, tmp) for a temporary of atomic_path. Saved to a path, not as bytes: the file records the
    path's stem, so bytes saved otherwise would differ and change data/*.pt's hash. Its file writer reports a full
    disk as a RuntimeError that names neither the file nor the cause; raised as an OSError, atomic_path names
    the file."""
    try:
        torch.save(obj, tmp)
    except RuntimeError as err:
        raise OSError(errno.EIO, f"torch.save: {str(err).splitlines()[0][:120]}") from None


def write_bytes(path: str | Path, data: bytes) -> None:
    """Written by Python: a full disk is then an OSError naming the file (see torch_save)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def save_state(model: torch.nn.Module, path: str | Path) -> None:
    write_bytes(path, state_bytes(model))


def load_state(model: torch.nn.Module, path: str | Path,
               hint: str = "rerun the stage that writes it with `dvc repro -f <stage>`") -> torch.nn.Module:
    state = load_tensors(path, hint)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:  # another architecture's (or no) state dict
        raise InputError(f"{path}: does not fit the model of params.yaml ({str(err).splitlines()[0][:80]}); "
                         f"{hint}") from None
    return model
