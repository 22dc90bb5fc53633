"""Accuracy of every checkpoint on each held-out set, per chain, its mean over chains with the bootstrap interval
of unlearning.stats, and the paper's Table 1 and claim.

Accuracy on A, B and retain is the share of their points predicted 1 (what the init model learned), on the
null background the share predicted 0: after unlearning, low A / B and high retain / null is the goal."""
from __future__ import annotations

import pandas as pd
import torch

from unlearning import stats
from unlearning.core import rng
from unlearning.core.train import predict
from unlearning.layered.phases import RELEARN_FROM

TRUE_LABEL = {"A": 1, "B": 1, "retain": 1, "null": 0}  # also the order of every table
# The paper's claim: "relearning B restores A for base unlearning but much less for LU".
RESTORED = 0.8  # base: A accuracy after relearning B at least this high = restored
MUCH_LESS = 0.2  # LU: at least this much lower than base, chain by chain (paired), with the interval above 0


def accuracies(model, test: dict) -> dict[str, torch.Tensor]:
    """test: role -> [S, n, 2] -> role -> accuracy per chain [S]."""
    out = {}
    for role in TRUE_LABEL:
        logits = predict(model, test[role].transpose(0, 1).contiguous())  # [n, S]
        out[role] = ((logits > 0).float() == TRUE_LABEL[role]).float().mean(0).cpu()
    return out


def per_chain_rows(name: str, model, test: dict, chains: tuple[int, ...]) -> list[dict]:
    acc = accuracies(model, test)
    return [{"checkpoint": name, "chain": c, **{role: acc[role][i].item() for role in TRUE_LABEL}}
            for i, c in enumerate(chains)]


def by_chain(per_chain: pd.DataFrame, checkpoint: str, role: str) -> torch.Tensor:
    """float64 [N]: the checkpoint's accuracy on `role`, one value per chain in chain order (NaN: chain missing)."""
    chains = sorted(per_chain.chain.unique())
    values = per_chain[per_chain.checkpoint == checkpoint].set_index("chain")[role].reindex(chains)
    return torch.tensor(values.to_numpy(dtype=float), dtype=torch.float64)


def interval(values: torch.Tensor, *names: str, bounds: tuple | None = (0.0, 1.0)) -> stats.Interval:
    """Mean over chains and its 95 % percentile bootstrap interval; the resamples are seeded by `names`, so the
    same numbers always give the same interval."""
    return stats.bootstrap_mean_ci(values, rng.generator(0, "layered", "interval", *names), bounds=bounds)


def summarise(per_chain: pd.DataFrame) -> dict[str, dict[str, stats.Interval]]:
    """checkpoint -> role -> Interval, in the order the checkpoints appear."""
    return {name: {role: interval(by_chain(per_chain, name, role), name, role) for role in TRUE_LABEL}
            for name in per_chain.checkpoint.unique()}


def table1(summary: dict) -> dict[str, dict[str, stats.Interval]]:
    """The paper's Table 1 per unlearned model, and the oracle as the reference: accuracy on B after relearning A,
    accuracy on A after relearning B."""
    return {start: {"relearn_A_acc_B": summary[f"{start}_relearn_A"]["B"],
                    "relearn_B_acc_A": summary[f"{start}_relearn_B"]["A"]} for start in RELEARN_FROM}


def claim(per_chain: pd.DataFrame) -> dict:
    """Does relearning B restore A for base unlearning but much less for LU? Decided from the numbers: base's mean
    >= RESTORED, and the paired per-chain gap base - LU (same data, same init model) >= MUCH_LESS with its
    bootstrap interval above 0."""
    base = by_chain(per_chain, "base_relearn_B", "A")
    lu = by_chain(per_chain, "lu_relearn_B", "A")
    gap = interval(base - lu, "claim", "gap", bounds=None)  # [N] paired differences, in [-1, 1]
    restored = base.nanmean().item() >= RESTORED
    return {"base_acc_A": base.nanmean().item(), "lu_acc_A": lu.nanmean().item(), "gap": gap,
            "base_restored": restored, "reproduces": restored and gap.mean >= MUCH_LESS and gap.low > 0}
