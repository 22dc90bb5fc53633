"""Files as committed at HEAD: what the tests hold the code and the published results to. An experiment applied to
the workspace (`dvc exp run`, `dvc exp apply`) rewrites params.yaml and metrics/; the tests must not change with
it. Where the project is no git checkout (an unpacked archive), the workspace file is all there is."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def committed_text(relative: str) -> str:
    result = subprocess.run(["git", "show", f"HEAD:{relative}"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else (ROOT / relative).read_text()
