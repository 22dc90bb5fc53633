"""Shared body of the pretrain and oracle stages: one model per seed, trained from scratch with cfg.train."""
from __future__ import annotations

import time

from stages.common import PARAMS, model_dir, open_experiment, parallel_map, seed_file
from unlearning import config, io, rng
from unlearning.train import fit


def train_references(which: str) -> None:
    """which: 'pretrained' (pretrain classes, forget class included) or 'oracle' (final class set only)."""
    cfg = config.load(PARAMS)
    exp = open_experiment(cfg)
    with io.atomic_path(model_dir(which)) as out:
        out.mkdir()

        def train(seed: int) -> None:
            splits = exp.splits(seed)
            data = splits.pretrain if which == "pretrained" else splits.target
            model = exp.new_model(seed)
            start = time.perf_counter()
            fit(model, data.x, data.y, cfg.train, rng.generator(seed, which), desc=f"{which} seed {seed}")
            seconds = time.perf_counter() - start
            io.save_state(model, seed_file(out, seed, ".pt"))
            io.write_json(seed_file(out, seed, ".json"), {"seconds": seconds, "train_samples": len(data)})

        # the oracle's seconds are the yardstick of every speed-up; the pretrained model's are not compared
        parallel_map(train, cfg.seeds, exp.device, timed=which == "oracle")
