"""`python src/suite.py request <name> <overlay>` | `python src/suite.py report`: the suite of forget requests
(suite/dvc.yaml runs both, from suite/).

request: the root params.yaml with the request's overlay applied is written into a scratch workspace
(.tmp/suite/<name> under the repository root), every stage of the default pipeline but plot runs there as the
plain child process `python src/run_stage.py <stage>` (exactly what `dvc repro` runs; its outputs stay in the
scratch workspace), and the small result files are copied to suite/results/<name>/; the scratch workspace, models
included, is removed. A stage that fails ends the request with that stage's one-line error and exit 2, and leaves
no result folder.

report: suite/report.md, suite/summary.json and suite/ranks.png from every request's results
(unlearning.suite)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent
ROOT = SRC.parent
sys.path.insert(0, str(SRC))

import yaml  # noqa: E402

from unlearning import overlay  # noqa: E402
from unlearning.core import config, io  # noqa: E402

RESULTS = ("metrics/report.md", "metrics/summary.json", "metrics/audit.json", "metrics/per_chain.csv",
           "eval/score_draws.csv", "eval/timing.md")


def stages(cfg: config.Config) -> list[list[str]]:
    """The default pipeline's stages in dvc.yaml's order, without plot."""
    return [["download"], ["pretrain"], ["oracle"], ["oracle_b"], *(["unlearn", m] for m in cfg.methods),
            *(["relearn", m] for m in cfg.methods), ["relearn", "oracle"], ["relearn", "oracle_b"], ["evaluate"]]


def run_request(name: str, overlay_path: Path) -> None:
    if not overlay_path.is_file():
        raise config.ConfigError(str(overlay_path), f"overlay of request {name} not found")
    io.TEMP_ROOT = ROOT / ".tmp"
    raw = overlay.merged(config.read_yaml(ROOT / "params.yaml"), overlay.read(overlay_path))
    cfg = config.parse(raw)  # bad params: one line before anything runs
    work = ROOT / ".tmp" / "suite" / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    for args in stages(cfg):
        print(f"suite {name}: {' '.join(args)}", file=sys.stderr, flush=True)
        if subprocess.run([sys.executable, str(SRC / "run_stage.py"), *args], cwd=work).returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise SystemExit(2)  # the stage printed its own one-line error
    with io.atomic_path(Path("results") / name) as out:
        out.mkdir()
        for result in RESULTS:
            shutil.copy(work / result, out / Path(result).name)
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    args = sys.argv[1:]
    try:
        if len(args) == 3 and args[0] == "request":
            run_request(args[1], Path(args[2]))
        elif args == ["report"]:
            from unlearning.suite import write_report

            write_report(yaml.safe_load(Path("params.yaml").read_text())["requests"], Path("results"))
        else:
            raise SystemExit("usage: python src/suite.py request <name> <overlay.yaml> | report")
    except (config.ConfigError, io.InputError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
