"""The evaluate stage's cache of per-model results: evaluating a new or changed method does not evaluate and audit
again the models that did not change.

DVC reruns `evaluate` whenever any model changes, and it scores every model of every chain (57.6 s of the default
run's 354 s, for 26 models). One stage per model would let DVC's own cache skip the unchanged ones, but every such
stage would rebuild the chain's retrain reference (its probes, its outputs) and add DVC's per-stage overhead to a
pipeline already at 0.98 of its time budget; so evaluate keeps this cache itself.

An entry holds one model's per-chain metric rows, forget-set confidences, held-out predictions and audit (before
the ceiling, which apply_ceiling sets from oracle_b every run); one more holds the verdicts' false-flag rates,
keyed by the two retrain populations' keys. Its key is a SHA-256 of everything those are
computed from:
- the context: the params evaluate reads other than `methods` (audit, device, data, scenario, model), the dataset
  file, and the source of every project module the stage has imported, so that a change of code recomputes all;
- the model's weights on every chain, its runs/ records without their wall-clock seconds, its relearn curves;
- the same of the retrain (`oracle`), which every metric and audit is taken against, and the original model's
  records (a method started from a diverged original model is not scored).
Entries hold only tensors, lists, tuples, strings and numbers, read back with torch.load(weights_only=True). The
folder (CACHE, git-ignored) is rewritten on every run with exactly the entries that run used, so it never grows
beyond one entry per model. It is no DVC output on purpose: it never changes a result (tests/test_pipeline.py
checks that cached and recomputed outputs are the same bit for bit), and as a `persist` output every new entry
would show evaluate as modified in `dvc status`, which `dvc checkout` could not undo (an uncached output)."""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from unlearning import audit, equivalence, stats
from unlearning.core import io

CACHE = Path(".cache/audit")  # relative to the project, where DVC runs the stage
SRC = Path(__file__).resolve().parents[1]  # src/
RUN_FIELDS = ("diverged", "grad_samples", "forward_samples")  # what evaluate reads of runs/<model>.json


def source_digest() -> str:
    """SHA-256 over the files of every loaded module under src/ (the stage's code, as dvc.yaml lists it)."""
    files = sorted(Path(m.__file__).resolve() for m in list(sys.modules.values())
                   if getattr(m, "__file__", None) and Path(m.__file__).resolve().is_relative_to(SRC))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(SRC)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def context(params: dict, data_file: Path) -> str:
    """params: params.yaml as a dict. Everything but the models that every entry depends on."""
    read = {key: params.get(key) for key in ("audit", "device", "data", "scenario", "model")}
    digest = hashlib.sha256(json.dumps(read, sort_keys=True).encode())
    digest.update(hashlib.sha256(data_file.read_bytes()).digest())
    digest.update(source_digest().encode())
    return digest.hexdigest()


def model_part(files: list[Path], runs: dict[int, dict], curves: Path | None) -> bytes:
    """One model family's share of a key: its weights on every chain (a missing file hashes as absent), its run
    records without seconds, its relearn curves."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"absent")
    kept = {seed: {k: run.get(k) for k in RUN_FIELDS} for seed, run in sorted(runs.items())}
    digest.update(json.dumps(kept, sort_keys=True).encode())
    digest.update(curves.read_bytes() if curves is not None and curves.is_file() else b"no curves")
    return digest.digest()


def key(context_digest: str, *parts: bytes) -> str:
    return hashlib.sha256(context_digest.encode() + b"".join(parts)).hexdigest()


def _plain(value):
    """numpy -> torch / Python numbers, namedtuples -> tuples: what weights_only loading accepts."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def audit_to_plain(a: audit.ModelAudit) -> dict:
    return {f.name: _plain(getattr(a, f.name)) for f in fields(a)}


def audit_from_plain(d: dict) -> audit.ModelAudit:
    def array(t):
        return None if t is None else t.numpy()

    return audit.ModelAudit(**{
        **d,
        "forgetting": None if d["forgetting"] is None else stats.Interval(*d["forgetting"]),
        "score_draws": array(d["score_draws"]),
        "epsilons": array(d["epsilons"]),
        "metrics": {m: stats.Interval(*v) for m, v in d["metrics"].items()},
        "differences": {m: equivalence.Difference(*v) for m, v in d["differences"].items()}})


class Cache:
    """folder/<key>.pt entries; get() what earlier runs stored, put() this run's, write() the folder anew."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: dict[str, dict] = {}

    def get(self, entry_key: str) -> dict | None:
        path = self.folder / f"{entry_key}.pt"
        if not path.is_file():
            return None
        try:
            entry = torch.load(path, weights_only=True)
        except Exception:  # noqa: BLE001 - a damaged entry is recomputed, never trusted
            return None
        self.used[entry_key] = entry
        return entry

    def put(self, entry_key: str, entry: dict) -> None:
        self.used[entry_key] = _plain(entry)

    def write(self) -> None:
        with io.atomic_path(self.folder) as tmp:
            tmp.mkdir()
            for entry_key, entry in self.used.items():
                torch.save(entry, tmp / f"{entry_key}.pt")
