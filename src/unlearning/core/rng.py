"""Every random draw takes a generator seeded from (seed, stage, method): runs are reproducible and
independent of the order in which stages happen to run."""
from __future__ import annotations

import contextlib
import hashlib

import torch


def derive(seed: int, *names: str) -> int:
    """A 63-bit integer that depends on the seed and every name, e.g. derive(0, "unlearn", "finetune")."""
    text = "/".join([str(seed), *names]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") >> 1


def generator(seed: int, *names: str, device: str | torch.device = "cpu") -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(derive(seed, *names))
    return gen


@contextlib.contextmanager
def seeded(seed: int, *names: str):
    """For code that draws from the global RNG (nn.Module initialisers): seed it, restore it afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive(seed, *names))
        yield
