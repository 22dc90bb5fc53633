"""download: generate every seed's Gaussian mixtures and points -> data/gmm.pt + data/gmm.json (manifest).

The data are synthetic: nothing is fetched; the stage keeps the name of the pipeline's first stage."""
from __future__ import annotations

import hashlib

from stages.base.common import stage
from stages.layered.common import DATA, MANIFEST, load_config
from unlearning.core import io
from unlearning.layered import data


@stage
def main() -> None:
    cfg = load_config()
    generated = data.generate(cfg.data, cfg.chains)
    with io.atomic_path(DATA) as tmp:
        io.torch_save(generated, tmp)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()  # of the file that becomes DATA on success
    share = data.same_set_neighbour_share(generated["means"])
    io.write_json(MANIFEST, {
        "sha256": digest,
        "chains": list(cfg.chains),
        "assignment": cfg.data.assignment,
        "shapes": {split: {role: list(x.shape) for role, x in roles.items()}
                   for split, roles in generated["points"].items()},
        # per chain, the share of Gaussian means whose nearest other mean is in the same set (high = separated)
        "same_set_neighbour_share": [round(v, 4) for v in share.tolist()],
    })


if __name__ == "__main__":
    main()
