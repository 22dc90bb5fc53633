"""bench/lab_dev.py, the lab procedures' development harness: its requests name overlays that exist, and the method
blocks it runs are params.yaml's with the request's overlay applied (the full runs are the lead's benchmark)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))  # lab_dev imports its neighbours frontier and pipeline
spec = importlib.util.spec_from_file_location("lab_dev", BENCH / "lab_dev.py")
lab_dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab_dev)


def test_every_request_is_an_overlay_that_exists():
    assert set(lab_dev.REQUESTS) == {"default", "replace_1_7", "replace_8_3", "fashion_6_3", "forget_subset"}
    for path in lab_dev.REQUESTS.values():
        assert path.is_file(), path


def test_method_blocks_apply_the_request_overlay(tmp_path):
    root = lab_dev.ROOT
    params = yaml.safe_load((root / "params.yaml").read_text())
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"methods": {"shrink_refit": {"reset": 0.25}}}))
    blocks = lab_dev.method_blocks(overlay, ["shrink_refit", "cf_k"])
    assert blocks["shrink_refit"] == {**params["methods"]["shrink_refit"], "reset": 0.25}
    assert blocks["cf_k"] == params["methods"]["cf_k"]
    with pytest.raises(SystemExit, match="no_such_method"):
        lab_dev.method_blocks(overlay, ["no_such_method"])
