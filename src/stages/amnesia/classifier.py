"""classifier: the independent judge, trained once on the real train images of all ten labels
-> models/classifier.pt and models/classifier.json (its test accuracy)."""
from __future__ import annotations

import time

from stages.amnesia.common import CLASSIFIER, config, load_images
from stages.base.common import stage
from unlearning.core import io
from unlearning.amnesia import classifier


@stage
def main() -> None:
    cfg = config()
    images = load_images(cfg)
    start = time.perf_counter()
    model = classifier.train(cfg.classifier, images["train_x"], images["train_y"])
    seconds = time.perf_counter() - start
    io.save_state(model, CLASSIFIER)
    io.write_json(CLASSIFIER.with_suffix(".json"), {
        "test_acc": classifier.accuracy(model, images["test_x"], images["test_y"]), "seconds": seconds})


if __name__ == "__main__":
    main()
