"""The README's "Adding a method" steps, followed literally in a temporary copy of the project: its example method
file and params block, and nothing else, give a working unlearn@<name> stage."""
from __future__ import annotations

import json
import re
import sys

import yaml
from dvc_project import ROOT, dvc, make_project, sh


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Adding a method", 1)[1].split("\n## ", 1)[0]


def code_blocks(section: str, language: str) -> list[str]:
    """The fenced blocks of one language, with the list item's indentation removed."""
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", section, flags=re.S | re.M)
    return [re.sub(rf"^{indent}", "", body, flags=re.M) for indent, body in blocks]


def test_the_readme_steps_add_a_method_that_runs(tmp_path):
    section = readme_section()
    [method_code], [params_block] = code_blocks(section, "python"), code_blocks(section, "yaml")
    name = next(iter(yaml.safe_load(params_block)))
    assert f"src/unlearning/methods/{name}.py" in section
    project = make_project(tmp_path / "project", ("original",), audit={"chains": 2, "attack_chains": 2})
    # step 1: the file; step 2: the block, appended under `methods:` (the last block of params.yaml)
    (project / "src" / "unlearning" / "methods" / f"{name}.py").write_text(method_code)
    params = project / "params.yaml"
    params.write_text(params.read_text() + "  " + params_block.replace("\n", "\n  ").rstrip() + "\n")
    changed = sh(project, "git", "status", "--porcelain").stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == ["params.yaml", f"src/unlearning/methods/{name}.py"]

    stages = dvc(project, "stage", "list", "--names-only").split()
    assert f"unlearn@{name}" in stages and f"relearn@{name}" in stages
    sh(project, sys.executable, "-m", "dvc", "repro", "-q", f"unlearn@{name}")
    run = json.loads((project / "runs" / f"{name}.json").read_text())
    assert sorted(run) == ["seed0", "seed1"] and all(r["diverged"] is None for r in run.values())
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"][f"unlearn@{name}"]
    assert f"src/unlearning/methods/{name}.py" in [dep["path"] for dep in lock["deps"]]
    # it forgets: the first chain's validation accuracy on the forget class falls during its epoch
    curve = (project / "live" / name / "plots" / "metrics" / "val_forget_acc.tsv").read_text().split()
    pretrained = (project / "live" / "pretrained" / "plots" / "metrics" / "val_forget_acc.tsv").read_text().split()
    assert float(curve[-1]) < float(pretrained[-1]) - 0.3
