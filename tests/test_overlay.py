"""Variants as overlays of params.yaml (unlearning/overlay.py, src/overlay.py): each overlay in overlays/ is a few
keys that give valid params; DVC's own `-S` override code turns the printed arguments into exactly the merged
params; a key params.yaml does not have is one line naming it, exit 2, and the command is not run."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dvc.utils.hydra import apply_overrides

from unlearning import overlay
from unlearning.core import config

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = sorted((ROOT / "overlays").glob("*.yaml"))


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "src" / "overlay.py"), *args], cwd=cwd, capture_output=True,
                          text=True)


@pytest.mark.parametrize("path", OVERLAYS, ids=[p.stem for p in OVERLAYS])
def test_each_overlay_is_a_few_keys_that_give_valid_params(path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    layer = overlay.read(path)
    merged = overlay.merged(params, layer)
    config.parse(merged)  # raises on a bad value
    if path.stem.startswith("budget_"):  # a compute budget touches every trained method, and only their budgets
        assert set(layer) == {"methods"} and all(len(block) <= 2 for block in layer["methods"].values())
    else:
        assert 0 < len(overlay.leaves(layer)) <= 10  # a variant, not a copy of params.yaml
    assert merged != params


@pytest.mark.parametrize("path", [*OVERLAYS, ROOT / "tests" / "tiny_overlay.yaml"], ids=lambda p: p.stem)
def test_dvc_applies_the_printed_arguments_as_the_merged_params(path, tmp_path):
    """What `dvc exp run -S ...` does to params.yaml (DVC's apply_overrides) equals overlay.merged."""
    work_params = tmp_path / "params.yaml"
    work_params.write_text((ROOT / "params.yaml").read_text())
    printed = cli(str(path))
    assert printed.returncode == 0, printed.stderr
    words = shlex.split(printed.stdout)  # printed for a shell: a list is quoted, [ is a glob character
    assert words[::2] == ["-S"] * (len(words) // 2)
    apply_overrides(work_params, words[1::2])
    expected = overlay.merged(yaml.safe_load((ROOT / "params.yaml").read_text()), overlay.read(path))
    assert yaml.safe_load(work_params.read_text()) == expected


def test_the_command_after_the_separator_runs_with_the_arguments(tmp_path):
    out = tmp_path / "argv.txt"
    script = f"import sys; open({str(out)!r}, 'w').write(' '.join(sys.argv[1:]))"
    result = cli(str(ROOT / "overlays" / "forget_class.yaml"), "--", sys.executable, "-c", script, "exp", "run")
    assert result.returncode == 0, result.stderr
    assert out.read_text() == ("exp run -S scenario.kind=forget_class "
                               "-S scenario.pretrain_classes=[0,1,2,3,4,5,6,7,8,9] -S scenario.forget=9 "
                               "-S scenario.learn=null")


@pytest.mark.parametrize("text,key", [("methods:\n  finetune:\n    epoch: 2\n", "methods.finetune.epoch"),
                                      ("audit:\n  chains: 1\n", "audit.chains"),
                                      ("seeds: [0, 1]\n", "seeds")])
def test_a_bad_overlay_is_one_line_naming_the_key_and_nothing_runs(text, key, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    marker = tmp_path / "ran"
    result = cli(str(bad), "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert key in line
    assert not marker.exists()
