"""train <original|oracle>: cVAEs trained from scratch with the cvae params, one per chain (original: every train
image, shared by all forgotten digits) or one per forgotten digit and chain (oracle: every train image except that
digit's, from an initialisation independent of the chain's original: what forgetting aims at)
-> models/<which>/... and runs.json (wall-clock seconds). The chains run in parallel processes (parallel_map)."""
from __future__ import annotations

import sys
import time

import torch

from stages.amnesia.common import config, load_images, model_key, write_models
from stages.base.common import parallel_map, stage
from unlearning.amnesia import cvae
from unlearning.amnesia.elbo import train_cvae
from unlearning.core import io, rng
from unlearning.core.config import ConfigError

WHICH = ("original", "oracle")


@stage
def main(which: str) -> None:
    if which not in WHICH:
        raise ConfigError("stage", f"unknown model {which!r}; allowed: {', '.join(WHICH)}")
    cfg = config()
    images = load_images(cfg)
    x, y = images["train_x"], images["train_y"]
    shape = tuple(x.shape[1:])
    # model key -> (digit, chain); digit None for the originals, which no forgetting request changes (the keys
    # are the work items: parallel_map's progress lines print them)
    items = ({model_key(c): (None, c) for c in range(cfg.chains)} if which == "original" else
             {model_key(c, d): (d, c) for d in cfg.forget for c in range(cfg.chains)})

    def train(key: str) -> tuple[bytes, float]:
        digit, chain = items[key]
        keep = torch.ones_like(y, dtype=torch.bool) if digit is None else y != digit  # [N]
        names = () if digit is None else ("oracle", str(digit))
        model = cvae.build(cfg.cvae, shape, chain, *names).to(x.device)
        start = time.perf_counter()
        train_cvae(model, x[keep], y[keep], cfg.cvae, rng.generator(chain, "amnesia", which, *names[1:]),
                   desc=f"{which} {key}")
        return io.state_bytes(model), time.perf_counter() - start

    write_models(which, list(items), parallel_map(train, list(items), x.device))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
