"""`python src/run_stage.py <stage> [args]`: how every dvc.yaml runs a stage, e.g. `... unlearn finetune`.

Run as a script, this file puts its own folder (this checkout's src/) first on sys.path, so a stage imports the
code of the workspace it runs in. `python -m stages` would not: with the editable install it imports the
checkout that was installed, which is wrong for `dvc exp run --queue` / `--temp`, whose workspaces are copies
elsewhere. The rest is `python -m stages` (stages/__main__.py: a fork from the warm zygote)."""
from stages.__main__ import main

if __name__ == "__main__":
    main()
