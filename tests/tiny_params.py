"""The tests' params: params.yaml with tests/tiny_overlay.yaml applied (scikit-learn digits, four chains, short
budgets). Every key and every method block comes from params.yaml; the overlay holds only what the tests shrink,
so a method added to params.yaml is in the tests' params with no second copy to keep in sync.

params.yaml as committed (tests/committed.py), so that an experiment applied to the workspace does not change the
tests, plus any method block the workspace's params.yaml adds: a method being added is tested before its commit."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import yaml
from committed import committed_text

from unlearning import overlay

ROOT = Path(__file__).resolve().parents[1]
TINY_OVERLAY = ROOT / "tests" / "tiny_overlay.yaml"


def tiny_raw() -> dict:
    """The tiny params as a plain dict, fresh on each call (tests edit it)."""
    params = yaml.safe_load(committed_text("params.yaml"))
    workspace = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, block in workspace.get("methods", {}).items():
        params["methods"].setdefault(name, block)  # a method not yet committed
    return overlay.merged(params, overlay.read(TINY_OVERLAY))


def _written() -> Path:
    """The tiny params as a file, for what takes a path (config.load, a bench script's --params): written once per
    test process into a temporary folder that is removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="tiny-params-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(tiny_raw(), sort_keys=False))
    return path


TINY_PARAMS = _written()
