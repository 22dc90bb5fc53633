"""Params overlays: a variant of the experiment as the few keys it changes (overlays/*.yaml,
tests/tiny_overlay.yaml), never as a copy of params.yaml. params.yaml stays the one file that documents every key.

An overlay is a YAML mapping shaped like params.yaml, holding only what it changes: e.g. `data: {name: digits}`.
A mapping in the overlay merges into the same mapping of params.yaml key by key; anything else (a number, a list,
null) replaces the value. Every key must exist in params.yaml, so a typo or a key params.yaml dropped is an error
naming the key instead of a silently ignored setting.

Two ways to apply one:
- `python src/overlay.py overlays/fashion.yaml -- dvc exp run`: the overlay's leaves as `-S key=value` arguments,
  so DVC records the variant as an experiment of params.yaml (and `dvc exp show` lists exactly those keys).
  DVC's Hydra composition was the other candidate; it regenerates params.yaml from a conf/ folder on every run,
  without params.yaml's comments, so the documentation of every key would live nowhere.
- merged(params, overlay) in Python: the tests (tests/tiny_overlay.yaml over params.yaml) and bench/pipeline.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from unlearning.core.config import ConfigError

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")  # a string DVC's YAML reads back as the same string


def read(path: str | Path) -> dict:
    overlay = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(overlay, dict):
        raise ConfigError(str(path), "an overlay must be a mapping shaped like params.yaml")
    return overlay


def merged(base: dict, overlay: dict, where: str = "") -> dict:
    """A new dict: base with overlay's values in place. KeyError-free: an unknown key is a ConfigError naming it."""
    out = dict(base)
    for key, value in overlay.items():
        name = f"{where}{key}"
        if key not in base:
            raise ConfigError(name, "not a key of params.yaml (an overlay only changes existing keys)")
        if isinstance(value, dict) and isinstance(base[key], dict):
            out[key] = merged(base[key], value, f"{name}.")
        else:
            out[key] = value
    return out


def leaves(overlay: dict, where: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) for every non-mapping value of the overlay, in file order."""
    out = []
    for key, value in overlay.items():
        if isinstance(value, dict) and value:
            out.extend(leaves(value, f"{where}{key}."))
        else:
            out.append((f"{where}{key}", value))
    return out


def set_args(overlay: dict) -> list[str]:
    """`-S key=value` arguments for `dvc exp run`, one shell word each (no spaces: lists as [0,1,2])."""
    words = []
    for key, value in leaves(overlay):
        text = value if isinstance(value, str) and _PLAIN.match(value) else json.dumps(value, separators=(",", ":"))
        words += ["-S", f"{key}={text}"]
    return words
