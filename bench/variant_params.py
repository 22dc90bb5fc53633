"""Write the variant params files that bench/pipeline.py times: params.yaml with a few top-level blocks replaced.

    python bench/variant_params.py            # rewrite every variant from the current params.yaml
    python bench/variant_params.py --check    # only say which variants are stale (exit 1), write nothing

A variant is a header comment, then params.yaml's text without its own first comment line, in which the lines of
each replaced top-level key (the key's line and the indented lines under it) are swapped for the variant's. Text,
not YAML, so that params.yaml's comments survive; the result is then checked to load as params.yaml does except
for the replaced keys. params.yaml changes (method defaults are re-tuned); tests/test_data.py fails until the
variants are rewritten."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Variant:
    header: str  # comment lines written above params.yaml's content
    blocks: dict  # top-level key -> its replacement text (the key's line and the lines under it)


VARIANTS = {
    "params_fashion.yaml": Variant(
        header="""\
# Fashion-MNIST at full size (60 000 + 10 000, the official split), one seed: the issue's "whole dvc repro <= 15 min
# on 2 CPU cores, <= 4 GiB" run. Generated from params.yaml (identical except seeds and data; tests/test_data.py checks).
# Measure: python bench/pipeline.py --params params_fashion.yaml --target-s 900
""",
        blocks={
            "seeds": "seeds: [0]                # one seed: the timing run\n",
            "data": """\
data:
  name: fashion-mnist     # read from Debian's dataset-fashion-mnist when installed, else torchvision's download
  test_fraction: null     # the official 10 000-image test split
""",
        }),
    "params_forget_class.yaml": Variant(
        header="""\
# Class forgetting (SEEDS.md B, "forget the 9s"): the original model knows all ten digits and must forget every 9;
# the slot of 9 stays and the oracle never trains it (target: forget_acc ~ 0). Generated from params.yaml by
# bench/variant_params.py (identical except scenario; tests/test_data.py checks).
# Measure: python bench/pipeline.py --params params_forget_class.yaml --target-s 300
""",
        blocks={"scenario": """\
scenario:
  kind: forget_class       # replace_class | forget_class | forget_subset
  pretrain_classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # the original model sees every digit
  forget: 9               # every training 9 is forgotten; its output slot stays
  learn: null             # only replace_class learns a class
  forget_fraction: 1.0    # the whole class
"""}),
    "params_forget_subset.yaml": Variant(
        header="""\
# Random-subset forgetting (SEEDS.md C): the original model knows all ten digits and must forget a seeded 75 % of
# the training 3s; the target is the oracle's accuracy on them (~ test accuracy), not 0 (over_forget: below it).
# Generated from params.yaml by bench/variant_params.py (identical except scenario; tests/test_data.py checks).
# Measure: python bench/pipeline.py --params params_forget_subset.yaml --target-s 300
""",
        blocks={"scenario": """\
scenario:
  kind: forget_subset      # replace_class | forget_class | forget_subset
  pretrain_classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # the original model sees every digit
  forget: 3               # the class the forgotten images are drawn from; the other 3s are retained
  learn: null             # only replace_class learns a class
  forget_fraction: 0.75   # share of the training 3s forgotten (drawn from the seed)
"""}),
}


def _spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first, end) line indices of its block: the key's line and the indented or blank lines
    after it, trailing blank lines excluded (they separate blocks and stay)."""
    tops = [i for i, line in enumerate(lines) if line.strip() and not line[0].isspace()] + [len(lines)]
    spans = {}
    for first, following in zip(tops, tops[1:]):
        if lines[first].startswith("#"):  # a top-level comment belongs to no block
            continue
        end = following
        while not lines[end - 1].strip():
            end -= 1
        spans[lines[first].split(":", 1)[0]] = (first, end)
    return spans


def render(params_text: str, variant: Variant) -> str:
    """The variant's text from params.yaml's text. ValueError when params.yaml lacks a replaced key or its layout
    defeats the line replacement (the result would differ from params.yaml in more than the variant's keys)."""
    lines = params_text.splitlines(keepends=True)
    if not lines or not lines[0].startswith("#"):
        raise ValueError("params.yaml must start with a comment line (the variant's header replaces it)")
    lines = lines[1:]
    spans = _spans(lines)
    missing = [key for key in variant.blocks if key not in spans]
    if missing:
        raise ValueError(f"{missing[0]}: not a top-level key of params.yaml")
    for key in sorted(variant.blocks, key=lambda k: spans[k][0], reverse=True):  # bottom up: spans above stay valid
        first, end = spans[key]
        lines[first:end] = variant.blocks[key].splitlines(keepends=True)
    text = variant.header + "".join(lines)
    default, mine = yaml.safe_load(params_text), yaml.safe_load(text)
    expected = {**default, **{key: yaml.safe_load(block)[key] for key, block in variant.blocks.items()}}
    if mine != expected or list(mine) != list(default):
        raise ValueError("the line replacement changed more than " + ", ".join(variant.blocks))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a variant is stale")
    args = parser.parse_args()
    params_text = (ROOT / "params.yaml").read_text()
    stale = []
    for name, variant in VARIANTS.items():
        try:
            text = render(params_text, variant)
        except ValueError as err:
            print(f"error: {name}: {err}", file=sys.stderr)
            sys.exit(2)
        path = ROOT / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text)
    verb = "stale" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "every variant matches params.yaml")
    sys.exit(1 if args.check and stale else 0)


if __name__ == "__main__":
    main()
