"""classifier: the independent judge, trained once on the real train images of all ten labels and on images with no
digit -> models/classifier.pt and models/classifier.json (test accuracy, and its outputs on no-digit images:
uniform noise, flat grey, black, the noise surrogate)."""
from __future__ import annotations

import time

from stages.amnesia.common import CLASSIFIER, config, load_images
from stages.base.common import stage
from unlearning.amnesia import classifier
from unlearning.core import io, rng


@stage
def main() -> None:
    cfg = config()
    images = load_images(cfg)
    start = time.perf_counter()
    model = classifier.train(cfg.classifier, images["train_x"], images["train_y"])
    seconds = time.perf_counter() - start
    shape = tuple(images["train_x"].shape[1:])
    no_digit = classifier.no_digit_outputs(model, shape, cfg.evaluate.reference_samples,
                                           rng.generator(0, "amnesia", "no-digit check"))
    io.save_state(model, CLASSIFIER)
    io.write_json(CLASSIFIER.with_suffix(".json"), {
        "test_acc": classifier.accuracy(model, images["test_x"], images["test_y"]), "seconds": round(seconds, 3),
        "no_digit": no_digit})


if __name__ == "__main__":
    main()
