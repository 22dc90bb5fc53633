"""train <original|oracle>: one cVAE per seed, trained from scratch with the cvae params.
original: every train image; oracle: every train image except the forgotten label's (what forgetting aims at).
-> models/<which>/seed<s>.pt + seed<s>.json (wall-clock seconds)."""
from __future__ import annotations

import sys
import time

from stages.amnesia.common import MODELS, config, load_images
from stages.base.common import stage
from unlearning.core import io, rng
from unlearning.amnesia import cvae
from unlearning.amnesia.elbo import train_cvae
from unlearning.core.config import ConfigError

WHICH = ("original", "oracle")


@stage
def main(which: str) -> None:
    if which not in WHICH:
        raise ConfigError("stage", f"unknown model {which!r}; allowed: {', '.join(WHICH)}")
    cfg = config()
    images = load_images(cfg)
    x, y = images["train_x"], images["train_y"]
    if which == "oracle":
        x, y = x[y != cfg.forget], y[y != cfg.forget]
    with io.atomic_path(MODELS / which) as out:
        out.mkdir()
        for seed in cfg.seeds:
            model = cvae.build(cfg.cvae, tuple(x.shape[1:]), seed).to(x.device)
            start = time.perf_counter()
            train_cvae(model, x, y, cfg.cvae, rng.generator(seed, "amnesia", which), desc=f"{which} seed {seed}")
            seconds = time.perf_counter() - start
            io.save_state(model, out / f"seed{seed}.pt")
            io.write_json(out / f"seed{seed}.json", {"seconds": seconds, "train_samples": len(y)})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
