"""Apply params overlays (overlays/*.yaml; see unlearning/overlay.py) as `-S key=value` arguments of a DVC
command, after checking that params.yaml with the overlays applied is valid params (a bad key or value: one line
naming it, exit 2, nothing run):

    python src/overlay.py overlays/fashion.yaml -- dvc exp run -n fashion
    python src/overlay.py overlays/fast_budget.yaml -- dvc exp run --queue -n fast
    python src/overlay.py overlays/fashion.yaml          # only print the arguments, shell-quoted

The command after `--` is run with the arguments appended (it replaces this process: its exit code is the
command's); no shell is involved, so a list value such as [0,1,2] is never taken for a file pattern."""
import argparse
import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unlearning import overlay
from unlearning.core import config  # noqa: E402


def main() -> None:
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overlays", nargs="+", type=Path)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    try:
        params, words = config.read_yaml(args.params), []
        for path in args.overlays:
            layer = overlay.read(path)
            params = overlay.merged(params, layer)
            words += overlay.set_args(layer)
        config.parse(params)
    except (config.ConfigError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if not command:
        print(shlex.join(words))
        return
    sys.stdout.flush()
    os.execvp(command[0], [*command, *words])


if __name__ == "__main__":
    main()
