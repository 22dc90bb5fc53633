"""`dvc pull`, `dvc push` and `dvc status` at the root, scoped to the default pipeline. The scenarios' pipelines
(scenarios/*/dvc.yaml) belong to the same DVC project, so an untargeted command also reaches their outputs; every
place that tells a user or a machine to run one at the root (README, Makefile, CI) names `dvc.yaml`.

Why not a DVC project per scenario folder (`dvc init --subdir`): measured, the scenarios' directory dependencies
(../../src/stages/base, ../../src/unlearning/core) then lie outside their project, DVC hashes them as external paths
without .dvcignore, and the first Python run that writes a __pycache__ there marks every scenario stage modified."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from dvc_project import dvc, sh

ROOT = Path(__file__).resolve().parents[1]
COMMAND = re.compile(r"\bdvc\s+(pull|push|status)\b[^;&|#\n]*")  # one dvc command, up to a separator or comment


def untargeted(where: Path, *args: str) -> subprocess.CompletedProcess:
    """A dvc command that may fail, with the environment of dvc_project.sh."""
    try:
        return sh(where, sys.executable, "-m", "dvc", *args)
    except AssertionError:
        return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=where, capture_output=True, text=True)


def test_targeted_commands_see_the_default_pipeline_and_untargeted_ones_the_scenarios(tiny_run, tmp_path):
    """On a user's clone of a tiny run, which carries the scenarios' dvc.yaml and dvc.lock but none of their
    outputs (make_run): the targeted status is clean and the targeted push warns about nothing, where the
    untargeted ones list the scenario stages and the scenario files that are missing."""
    assert json.loads(dvc(tiny_run, "status", "--json", "dvc.yaml")) == {}
    everything = json.loads(dvc(tiny_run, "status", "--json"))
    assert everything and all(stage.startswith("scenarios/") for stage in everything), everything

    store = tmp_path / "store"
    dvc(tiny_run, "remote", "add", "--local", "-f", "-d", "store", str(store))
    try:
        pushed = sh(tiny_run, sys.executable, "-m", "dvc", "push", "--run-cache", "dvc.yaml")
        assert "WARNING" not in pushed.stdout + pushed.stderr, pushed.stderr
        assert any((store / "files" / "md5").rglob("*")) and any((store / "runs").rglob("*"))
        loose = untargeted(tiny_run, "push", "--run-cache")
        assert "Missing cache files" in loose.stderr  # the scenarios' outputs, which this run never made

        clone = tmp_path / "clone"
        sh(tmp_path, "git", "clone", "-q", str(tiny_run), str(clone))
        dvc(clone, "remote", "add", "--local", "-d", "store", str(store))
        assert untargeted(clone, "pull").returncode != 0  # the scenarios' outputs are in no remote
        sh(clone, sys.executable, "-m", "dvc", "pull", "dvc.yaml")  # exits 0 (sh checks)
        assert (clone / "models" / "unlearned" / "finetune").is_dir()
    finally:
        dvc(tiny_run, "remote", "remove", "--local", "store")


def root_commands() -> list[tuple[str, str]]:
    """(where, command) for every dvc pull/push/status the project tells someone to run: the code blocks of the
    README and docs/, the Makefile's recipes, the CI workflows' run scripts."""
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        inside = False  # within a fenced code block
        for line in doc.read_text().splitlines():
            if line.startswith("```"):
                inside = not inside
            elif inside:
                found.append((doc.name, line))
    makefile = ROOT / "Makefile"
    found += [("Makefile", line) for line in makefile.read_text().splitlines() if line.startswith("\t")]
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job["steps"]:
                found += [(workflow.name, line) for line in step.get("run", "").splitlines()]
    return [(where, match.group(0).strip()) for where, line in found for match in COMMAND.finditer(line)]


def test_every_pull_push_and_status_names_a_pipeline_file():
    """dvc.yaml, or a scenario's scenarios/<name>/dvc.yaml: inside a scenario's folder an untargeted command still
    covers the whole project (DVC finds the root's dvc.yaml too)."""
    commands = root_commands()
    assert {command.split()[1] for _, command in commands} >= {"pull", "push"}  # the scan found them
    assert [(where, command) for where, command in commands
            if not any(word.endswith("dvc.yaml") for word in command.split())] == []
