"""The stages of scenarios/layered on the tiny overlay: one `dvc repro` in a fresh repository, the keys each stage
reads against its dvc.yaml `params:`, and bad input: one line on stderr naming the key or file, exit code 2, and no
output written or changed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_layered import tiny_params

from unlearning import equivalence
from unlearning.layered import judging, phases

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("download", "pretrain", "oracle", "unlearn", "relearn", "evaluate", "plot")
OUTPUTS = ("data", "models", "metrics", "plots")


def _env(src: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(src), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
            f"{os.environ['PATH']}"}


def sh(*cmd, cwd: Path, src: Path, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=_env(src), capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    """A fresh repository holding src/ and scenarios/layered with the tiny params, after `dvc repro`."""
    where = tmp_path_factory.mktemp("layered")
    shutil.copytree(ROOT / "src", where / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    scenario = where / "scenarios" / "layered"
    scenario.mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "layered" / "dvc.yaml", scenario)
    (scenario / "params.yaml").write_text(yaml.safe_dump(tiny_params()))
    src = where / "src"
    sh("git", "init", "-q", cwd=where, src=src)
    sh("dvc", "init", "-q", cwd=where, src=src)
    sh("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "init", cwd=where, src=src)
    sh("dvc", "repro", cwd=scenario, src=src)
    return scenario


def run_stage(scenario: Path, name: str, *wrapper: str) -> subprocess.CompletedProcess:
    """The stage as dvc.yaml runs it (optionally under a wrapper script), not asserting success."""
    src = scenario.parents[1] / "src"
    return sh(sys.executable, *wrapper, str(src / "run_stage.py"), f"layered.{name}", cwd=scenario, src=src,
              ok=False)


def snapshot(scenario: Path) -> dict[str, bytes]:
    """Every output file's bytes, by path: what a failed stage must leave as it was."""
    return {str(p.relative_to(scenario)): p.read_bytes() for d in OUTPUTS for p in sorted((scenario / d).rglob("*"))
            if p.is_file()}


def test_dvc_repro_writes_the_judgement_against_the_oracle(scenario):
    summary = json.loads((scenario / "metrics" / "summary.json").read_text())
    assert set(summary["checkpoints"]) == set(phases.PHASES)
    base = summary["checkpoints"]["base"]
    assert base["A"]["mean"] < 0.15 < 0.85 < base["retain"]["mean"]
    assert base["A"]["low"] <= base["A"]["mean"] <= base["A"]["high"]
    assert summary["vs_oracle_base"]["base_relearn_B"]["vs"] == "oracle_base_relearn_B"
    judged = summary["vs_oracle"]
    assert set(judged) == {judging.name(m, a) for m in judging.METHODS for a in judging.ATTACKS}
    lu = judged["lu_relearn_B"]
    assert lu["vs"] == "oracle_relearn_B"
    relearned_a = summary["checkpoints"]["lu_relearn_B"]["A"]["mean"]
    oracle_a = summary["checkpoints"]["oracle_relearn_B"]["A"]["mean"]
    assert lu["A"]["oracle"] == pytest.approx(oracle_a, abs=1e-6)
    assert lu["A"]["diff"] == pytest.approx(relearned_a - oracle_a, abs=2e-6)
    assert lu["A"]["verdict"] in (equivalence.EQUIVALENT, equivalence.DIFFERENT, equivalence.INCONCLUSIVE)
    report = (scenario / "metrics" / "report.md").read_text()
    assert "beyond the attack's own effect" in report
    assert "A model that never learned A, attacked the same way" in report
    assert "Table 1" in report and ("**Reproduced**" in report or "**Not reproduced**" in report)
    assert {p.stem for p in (scenario / "plots").glob("*.png")} == {*phases.PHASES, "overview"}
    src = scenario.parents[1] / "src"
    assert "up to date" in sh("dvc", "status", cwd=scenario, src=src).stdout


def test_every_stage_reads_exactly_the_params_it_lists(scenario):
    """A key read but not listed would leave results DVC calls current after the key changes; a key listed but
    never read reruns the stage for nothing (tests/record_params.py records the keys a stage reads)."""
    listed = {name: spec["params"] for name, spec in yaml.safe_load((scenario / "dvc.yaml").read_text())
              ["stages"].items()}
    assert set(listed) == set(STAGES)
    for name in STAGES:
        keys = scenario / f"{name}.keys.json"
        done = run_stage(scenario, name, str(ROOT / "tests" / "record_params.py"), str(keys))
        assert done.returncode == 0, done.stderr[-2000:]
        read = json.loads(keys.read_text())
        keys.unlink()
        covered = [k for k in read if any(k == e or k.startswith(f"{e}.") for e in listed[name])]
        assert covered == read, f"{name} reads keys it does not list: {sorted(set(read) - set(covered))}"
        unread = [e for e in listed[name] if not any(k == e or k.startswith(f"{e}.") for k in read)]
        assert not unread, f"{name} lists keys it never reads: {unread}"


@pytest.mark.parametrize("stage, edit, key", [
    ("download", lambda r: r["data"].update(gaussians=0), "data.gaussians"),
    ("pretrain", lambda r: r["audit"].update(chains=1), "audit.chains"),
    ("evaluate", lambda r: r["audit"]["tolerance"].update(relearned=-0.1), "audit.tolerance.relearned"),
    ("evaluate", lambda r: r["audit"]["tolerance"].update(typo=0.1), "audit.tolerance.typo"),
    # valid params that disagree with the data on disk: the data hold 6 chains
    ("relearn", lambda r: r["audit"].update(chains=3), "audit.chains"),
])
def test_bad_params_stop_a_stage_with_one_line_and_change_nothing(scenario, stage, edit, key):
    params = scenario / "params.yaml"
    good = params.read_text()
    raw = yaml.safe_load(good)
    edit(raw)
    before = snapshot(scenario)
    try:
        params.write_text(yaml.safe_dump(raw))
        done = run_stage(scenario, stage)
    finally:
        params.write_text(good)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert snapshot(scenario) == before
    assert not (scenario / ".tmp").exists()


def test_a_missing_checkpoint_is_named_and_nothing_is_written(scenario):
    moved = scenario.parent / "relearned.away"
    before = snapshot(scenario)
    (scenario / "models" / "relearned").rename(moved)
    try:
        done = run_stage(scenario, "evaluate")
    finally:
        moved.rename(scenario / "models" / "relearned")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "models/relearned/" in lines[0] and "not found" in lines[0], done.stderr
    assert snapshot(scenario) == before


@pytest.mark.parametrize("stage, edit, key", [
    ("download", lambda r: r["data"].update(bogus=1), "data.bogus"),
    ("evaluate", lambda r: r["audit"].pop("tolerance"), "audit.tolerance"),
])
def test_a_stage_in_an_empty_folder_writes_nothing(tmp_path, stage, edit, key):
    raw = tiny_params()
    edit(raw)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    done = sh(sys.executable, "-m", f"stages.layered.{stage}", cwd=tmp_path, src=ROOT / "src", ok=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]
