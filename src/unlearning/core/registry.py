"""The METHODS registry: name -> module of unlearning.methods with a frozen `Params` dataclass and
`unlearn(model, splits, params, generator) -> model`. Adding a method = one file in unlearning/methods/ + one params
block. It lives in core (every stage checks method names) and reads the methods package's folder without importing
the package, so that only the unlearn stages depend on unlearning/methods/.

The registry imports a method's module only when it is looked up (METHODS[name]): iterating over it, or asking
whether a name is registered, imports nothing. So a stage imports exactly the methods it runs, and dvc.yaml can
make unlearn@<m> depend on methods/<m>.py alone (tests/test_stage_deps.py checks the imports against the deps)."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

# Every module of the methods package except the shared helpers is a method, named after its file: adding a method
# is adding its file (and its params block), with no edit here, so that no stage reruns for another's arrival.
METHODS_DIR = Path(__file__).resolve().parents[1] / "methods"
NAMES = tuple(sorted(m.name for m in pkgutil.iter_modules([str(METHODS_DIR)]) if m.name != "shared" and not m.ispkg))

# Methods that hide rather than unlearn (outputs change, features do not): the report checks the probe flags them.
HIDING = ("head_mask",)
# Methods that train nothing (no speed-up over retraining is reported for them).
UNTRAINED = ("original", "head_mask")


class _Registry(Mapping):
    def __getitem__(self, name: str) -> ModuleType:
        if name not in NAMES:
            raise KeyError(name)
        return importlib.import_module(f"unlearning.methods.{name}")

    def __iter__(self):
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def __contains__(self, name) -> bool:
        return name in NAMES


METHODS: Mapping[str, ModuleType] = _Registry()
