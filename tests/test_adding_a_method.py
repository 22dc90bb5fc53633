"""The steps of docs/adding_a_method.md (the README links them), followed literally in temporary copies of the
project: its example method file and params block, and nothing else, give a working unlearn@<name> stage; with its
README row and BAD_VALUES entries too, the tests that cover every registered method pass (the steps are complete
for `make test`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import yaml
from dvc_project import ROOT, dvc, make_project, sh


def readme_section() -> str:
    """The steps, and the README's pointer to them."""
    assert "docs/adding_a_method.md" in (ROOT / "README.md").read_text().split("## Adding a method", 1)[1]
    return (ROOT / "docs" / "adding_a_method.md").read_text()


def code_blocks(section: str, language: str) -> list[str]:
    """The fenced blocks of one language, with the list item's indentation removed."""
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", section, flags=re.S | re.M)
    return [re.sub(rf"^{indent}", "", body, flags=re.M) for indent, body in blocks]


def test_the_readme_steps_add_a_method_that_runs(tmp_path):
    section = readme_section()
    (method_code, _), [params_block] = code_blocks(section, "python"), code_blocks(section, "yaml")
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
    # it forgets: the first chain's validation accuracy on the forget class falls during its fit
    curve = (project / "live" / name / "plots" / "metrics" / "val_forget_acc.tsv").read_text().split()
    pretrained = (project / "live" / "pretrained" / "plots" / "metrics" / "val_forget_acc.tsv").read_text().split()
    assert float(curve[-1]) < float(pretrained[-1]) - 0.3


def test_the_readme_steps_are_all_that_make_test_needs(tmp_path):
    """Every step applied to a copy of the files `make test` reads: the tests that run every registered method
    (tests/test_methods.py: the tiny-data outcome, the bad values, the README's methods table) pass for it."""
    section = readme_section()
    (method_code, bad_values), [params_block], [row] = (code_blocks(section, lang) for lang in ("python", "yaml",
                                                                                                  "markdown"))
    name = next(iter(yaml.safe_load(params_block)))
    project = tmp_path / "project"
    for folder in ("src", "tests"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for file in ("README.md", "params.yaml", "dvc.yaml", "pyproject.toml"):
        shutil.copy(ROOT / file, project / file)
    # step 1: the file; step 2: the block, under `methods:` (the last block of params.yaml)
    (project / "src" / "unlearning" / "methods" / f"{name}.py").write_text(method_code)
    params = project / "params.yaml"
    params.write_text(params.read_text() + "  " + params_block.replace("\n", "\n  ").rstrip() + "\n")
    # step 3: the row after the last row of the README's methods table
    readme = project / "README.md"
    head, methods = readme.read_text().split("\n## Methods\n", 1)
    table, rest = methods.split("\n## ", 1)
    last = [line for line in table.splitlines() if line.startswith("|")][-1]
    readme.write_text(head + "\n## Methods\n" + table.replace(last + "\n", last + "\n" + row, 1) + "\n## " + rest)
    # step 4: the bad values, at the end of the BAD_VALUES list
    tests = project / "tests" / "test_methods.py"
    start = tests.read_text().index("BAD_VALUES = [")
    end = tests.read_text().index("\n]\n", start)
    text = tests.read_text()
    tests.write_text(text[:end] + "\n    " + bad_values.strip() + text[end:])

    env = {**os.environ, "PYTHONPATH": str(project / "src")}  # the copy's library, not this checkout's
    # one -q (pyproject's addopts has another): the summary line "N passed" is printed
    result = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=-q", "-p", "no:cacheprovider",
                             "tests/test_methods.py", "-k", f"{name} or readme_methods_table"], cwd=project, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    # the new method's outcome test, each of its bad values and the table test ran
    assert re.search(rf"\b{1 + len(re.findall(name, bad_values)) + 1} passed\b", result.stdout), result.stdout
