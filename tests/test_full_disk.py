"""A full disk during any stage: one line naming the file it could not write, exit code 2, nothing written, and a
workspace that works again once space is freed; no stage writes bytecode into the workspace (a __pycache__ file cut
short by a full disk broke every later stage of the checkout, even after space was freed).

The workspace, its src/ included, lives on a 20 MiB tmpfs mounted for the test: this needs root (CAP_SYS_ADMIN),
and the test is skipped where mount is refused."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from workspace import make_workspace, pipeline, run

# the one line that ends the stage (after its progress lines), naming the output it could not write
ONE_LINE = re.compile(r"^error: (data|models|runs|relearn|live|eval|metrics|plots)(/\S+)?: cannot write or read "
                      r"\(.+\); nothing was written$")


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    refused = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True,
                             text=True)
    if refused.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {refused.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Write zeros until the file system is full; the filler is returned, to free the space again."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:  # unbuffered: closing it has nothing left to write
        while True:
            try:
                if out.write(b"\0" * 4096) == 0:
                    break
            except OSError:
                break
    return filler


def files_in(workspace: Path) -> set[str]:
    return {str(p.relative_to(workspace)) for p in workspace.rglob("*")}


def test_every_stage_on_a_full_disk_is_one_line_and_recovers(small_disk):
    workspace = make_workspace(small_disk / "project")
    for args in pipeline(workspace):
        before = files_in(workspace)
        filler = fill(small_disk)
        full = run(workspace, args)
        filler.unlink()
        assert full.returncode == 2, (args, full.stderr[-2000:])
        errors = [line for line in full.stderr.strip().splitlines() if not line.startswith(f"{' '.join(args)}: ")]
        assert len(errors) == 1 and ONE_LINE.match(errors[0]), (args, full.stderr[-2000:])
        assert files_in(workspace) == before, args
        freed = run(workspace, args)
        assert freed.returncode == 0, (args, freed.stderr[-2000:])
    assert sorted(p for p in (workspace / "src").rglob("__pycache__")) == []
