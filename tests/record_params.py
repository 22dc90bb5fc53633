"""`python tests/record_params.py <keys.json> src/run_stage.py <stage> [arg]`: runs the stage as run_stage.py does,
and at exit writes the sorted dotted params keys the stage read to keys.json. Test helper (test_stage_params.py).

Every config dataclass made by parse_dataclass (and the main Config, made by config.parse) is registered with its
dotted prefix; reading one of its fields records `prefix.field`, unless the value is itself a registered block (its
own fields are recorded as they are read). A mapping field (the methods) records `prefix.name` for the block it hands
out, and the whole prefix when iterated. What parsing reads to validate is not recorded: the objects are registered
once built. Forked workers record nothing, so the stage must run with UNLEARNING_WORKERS=1."""
from __future__ import annotations

import atexit
import json
import runpy
import sys
from pathlib import Path

KEYS, SRC = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve().parent
sys.path.insert(0, str(SRC))

from unlearning.core import config  # noqa: E402

READ: set[str] = set()
PREFIX: dict[int, tuple[str, object]] = {}  # id(block) -> (dotted prefix, block: kept alive so its id stays its own)


class Recorded(dict):
    """A mapping field: lookups record the block they return, iteration the whole mapping."""

    def __init__(self, prefix: str, value: dict):
        super().__init__(value)
        self.prefix = prefix

    def _entry(self, name):
        value = dict.__getitem__(self, name)
        if id(value) not in PREFIX and not PARSING[0]:
            READ.add(f"{self.prefix}.{name}")
        return value

    def __getitem__(self, name):
        return self._entry(name)

    def get(self, name, default=None):
        return self._entry(name) if name in self else default

    def _whole(self):
        if not PARSING[0]:
            READ.add(self.prefix)

    def __iter__(self):
        self._whole()
        return super().__iter__()

    def keys(self):
        self._whole()
        return super().keys()

    def values(self):
        self._whole()
        return super().values()

    def items(self):
        self._whole()
        return super().items()

    def __len__(self):
        self._whole()
        return super().__len__()


def _getattribute(self, name):
    value = object.__getattribute__(self, name)
    entry = PREFIX.get(id(self))
    if entry is None or PARSING[0] or name not in type(self).__dataclass_fields__:
        return value
    key = f"{entry[0]}.{name}".lstrip(".")
    if id(value) in PREFIX:
        return value
    if isinstance(value, dict):
        return Recorded(key, value)
    READ.add(key)
    return value


PARSING = [0]  # > 0 while parsing: what validation reads (Config.__post_init__ reads the scenario) is no dependency


def registered(parse, prefix_of):
    """parse, whose result is registered under prefix_of(its arguments); nothing is recorded while it runs."""

    def run(*args):
        PARSING[0] += 1
        try:
            block = parse(*args)
        finally:
            PARSING[0] -= 1
        PREFIX[id(block)] = (prefix_of(*args), block)
        type(block).__getattribute__ = _getattribute
        return block

    return run


# the scenario pipelines' config modules import parse_dataclass from here: replaced before they are imported
config.parse_dataclass = registered(config.parse_dataclass, lambda cls, raw, prefix: prefix)
config.parse = registered(config.parse, lambda *args: "")


@atexit.register
def write() -> None:
    KEYS.write_text(json.dumps(sorted(READ)))


sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
