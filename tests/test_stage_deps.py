"""Every DVC stage depends on exactly the project files it imports: a missing file would leave stale results after
an edit, an extra one would rerun the stage for nothing (editing one method reruns only that method's chain).

The imports are found statically (modulefinder follows every import statement, also inside functions) from
src/run_stage.py and the stage module its command names; an unlearn@<m> stage also imports its method's module
through the registry (importlib), which is added by name."""
from __future__ import annotations

import importlib
import modulefinder
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PIPELINES = [ROOT, ROOT / "scenarios" / "layered", ROOT / "scenarios" / "amnesia"]
# `exec`: the shell DVC starts replaces itself by the stage, so the stage's parent is dvc and dies with it
# (stages/base/process.py); dash, Debian's /bin/sh and DVC's shell when $SHELL is unset, would stay in between
COMMAND = re.compile(r"^exec python (?P<script>\S*src/run_stage\.py) (?P<stage>\S+)(?: (?P<arg>\S+))?$")


def stages(pipeline: Path) -> dict[str, dict]:
    """name -> stage definition, foreach stages expanded over params.yaml's mapping (or list), like dvc does."""
    spec = yaml.safe_load((pipeline / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    out = {}
    for name, stage in spec.items():
        if "foreach" not in stage:
            out[name] = stage
            continue
        source = stage["foreach"]  # a literal list, or ${a.b} naming a mapping / list of params.yaml
        if isinstance(source, str):
            source = params
            for part in stage["foreach"].strip("${}").split("."):
                source = source[part]
        for key in source:
            text = yaml.safe_dump(stage["do"]).replace("${key}", str(key)).replace("${item}", str(key))
            out[f"{name}@{key}"] = yaml.safe_load(text)
    return out


def imported_files(stage_module: str, extra: list[str]) -> set[str]:
    finder = modulefinder.ModuleFinder(path=[str(SRC)])  # project modules only: libraries are pinned elsewhere
    finder.run_script(str(SRC / "run_stage.py"))
    for module in [stage_module, *extra]:
        finder.import_hook(module)
    # `from package import name` is first tried as a module: a name the package defines is not missing
    missing = [name for name in finder.badmodules if name.split(".")[0] in ("stages", "unlearning")
               and not hasattr(importlib.import_module(name.rpartition(".")[0]), name.rpartition(".")[2])]
    assert not missing, f"{stage_module} imports project modules that do not exist: {missing}"
    return {str(Path(m.__file__).resolve().relative_to(ROOT)) for m in finder.modules.values()
            if m.__file__ and Path(m.__file__).resolve().is_relative_to(SRC)}


def declared_files(pipeline: Path, deps: list, root: Path = ROOT) -> set[str]:
    """The project source files (under root/src, relative to root) a stage's deps cover; a directory covers every
    .py file under it."""
    files = set()
    for dep in deps:
        path = (pipeline / (dep if isinstance(dep, str) else next(iter(dep)))).resolve()
        if not path.is_relative_to(root / "src"):
            continue
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        files |= {str(p.relative_to(root)) for p in found if "__pycache__" not in p.parts}
    return files


CASES = [(pipeline, name, stage) for pipeline in PIPELINES for name, stage in stages(pipeline).items()]


@pytest.mark.parametrize("pipeline,name,stage", CASES,
                         ids=[f"{c[0].relative_to(ROOT) if c[0] != ROOT else 'root'}:{c[1]}" for c in CASES])
def test_deps_are_exactly_the_imported_files(pipeline, name, stage):
    match = COMMAND.match(stage["cmd"])
    assert match, f"{name}: command {stage['cmd']!r} is not `exec python .../src/run_stage.py <stage> [arg]`"
    extra = [f"unlearning.methods.{match['arg']}"] if match["stage"] == "unlearn" else []
    imported = imported_files(f"stages.{match['stage']}", extra)
    declared = declared_files(pipeline, stage["deps"])
    assert not imported - declared, f"{name}: imports files missing from its deps: {sorted(imported - declared)}"
    # a foreach stage has one deps list for all its items: each method stage lists the methods' shared helpers
    shared = {"src/unlearning/methods/shared.py"} if match["stage"] == "unlearn" else set()
    assert not declared - imported - shared, f"{name}: deps list files it never imports: {sorted(declared - imported)}"


def test_a_method_stage_depends_on_no_other_method():
    methods = set(yaml.safe_load((ROOT / "params.yaml").read_text())["methods"])
    for name, stage in stages(ROOT).items():
        if name.startswith("unlearn@"):
            others = {f"src/unlearning/methods/{m}.py" for m in methods - {name.split("@")[1]}}
            assert not others & set(stage["deps"]), name
