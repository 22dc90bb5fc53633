"""The key-step mutation check (bench/mutations.py) on a cheap subset: each listed edit, applied to a temporary copy,
fails that method's own tests. The full list runs with `python bench/mutations.py` (docs/mutations.md)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "mutations.py"
spec = importlib.util.spec_from_file_location("mutations", BENCH)
mutations = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutations)

# one cheap edit per kind of guard: a loss term (npo), a mask (salun's shared helper), a schedule (l1_sparse)
CHEAP = [m for m in mutations.MUTATIONS if (m.method, m.what) in {
    ("npo", "reference model dropped (p_ref = 1)"),
    ("l1_sparse", "schedule disconnected (gamma stays at its first value)"),
    ("fisher_forgetting", "forgotten head row not zeroed"),
}]


def test_every_mutation_names_text_that_exists_once():
    for m in mutations.MUTATIONS:
        assert (mutations.ROOT / m.path).read_text().count(m.old) == 1, (m.method, m.what)


@pytest.mark.parametrize("mutation", CHEAP, ids=lambda m: m.method)
def test_cheap_mutations_are_caught(mutation, tmp_path):
    assert len(CHEAP) == 3
    assert mutations.run(mutation, tmp_path), f"{mutation.method}: '{mutation.what}' passed its tests"
