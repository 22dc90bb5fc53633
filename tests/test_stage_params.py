"""Every params key a stage reads is among its dvc.yaml `params:`, and every entry there is read: a key read but not
listed leaves results that `dvc status` calls current after the key changes (relearn@<m> read audit.attack_chains and
audit.split unlisted: changing them reran relearn_oracle only); a key listed but never read reruns it for nothing.

Each stage of the tiny project runs under tests/record_params.py, which records the keys the stage reads from its
config objects (not what parsing validates). `executor` is read by every stage and listed by none, on purpose: the
outputs are byte-identical on either executor (dvc.yaml, tests/test_dask.py)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from test_stage_deps import COMMAND, ROOT, stages
from workspace import make_workspace, stage_env

NOT_PARAMS = ("executor",)


def covered(key: str, entries) -> bool:
    return any(key == entry or key.startswith(f"{entry}.") for entry in entries)


@pytest.fixture(scope="module")
def read_keys(tmp_path_factory) -> dict[str, tuple[list, list[str] | str]]:
    """stage name -> (its params entries, the keys it read or how it failed), every stage of the tiny project run
    in dvc.yaml's order (which runs each after its inputs)."""
    workspace = make_workspace(tmp_path_factory.mktemp("params") / "project")
    found = {}
    for name, spec in stages(workspace).items():
        match = COMMAND.match(spec["cmd"])
        keys = workspace / f"{name}.keys.json"
        args = [match["stage"], *([match["arg"]] if match["arg"] else [])]
        result = subprocess.run([sys.executable, str(ROOT / "tests" / "record_params.py"), str(keys),
                                 "src/run_stage.py", *args], cwd=workspace, capture_output=True, text=True,
                                env=stage_env(UNLEARNING_WORKERS="1"))
        found[name] = (spec.get("params", []),
                       json.loads(keys.read_text()) if result.returncode == 0 else result.stderr[-3000:])
    return found


def test_every_stage_ran(read_keys):
    assert {name: keys for name, (_, keys) in read_keys.items() if isinstance(keys, str)} == {}


def test_every_key_a_stage_reads_is_listed(read_keys):
    unlisted = {name: [key for key in keys if not covered(key, [*params, *NOT_PARAMS])]
                for name, (params, keys) in read_keys.items() if isinstance(keys, list)}
    assert {name: keys for name, keys in unlisted.items() if keys} == {}


def empty(entry: str, raw: dict) -> bool:
    """An entry of params.yaml with nothing in it to read (the block of a method without settings)."""
    for part in entry.split("."):
        raw = raw.get(part) if isinstance(raw, dict) else None
    return raw == {}


def test_every_listed_key_is_read(read_keys):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    unread = {name: [entry for entry in params if not any(covered(key, [entry]) for key in keys)
                     and not empty(entry, raw)]
              for name, (params, keys) in read_keys.items() if isinstance(keys, list)}
    assert {name: entries for name, entries in unread.items() if entries} == {}
