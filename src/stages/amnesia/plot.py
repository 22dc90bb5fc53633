"""plot: generated samples of the first chain (same z draws in every panel)
-> plots/forgotten.png: per model a panel whose row d holds the label-d samples of the model made to forget d
   (original: its own label-d samples), for every forgotten digit;
   plots/samples_<model>.png and plots/samples.png: every label (rows 0-9) of the models made for the first
   forgotten digit, so that the retained digits can be seen too."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from stages.amnesia.common import PLOTS, config, data_path, load_cvae  # noqa: E402
from stages.base.common import stage  # noqa: E402
from unlearning.amnesia.config import NUM_LABELS  # noqa: E402
from unlearning.core import io, rng  # noqa: E402
from unlearning.core.io import InputError  # noqa: E402
from unlearning.core.train import resolve_device  # noqa: E402


def sample_rows(model, labels: list[int], columns: int, generator: torch.Generator) -> torch.Tensor:
    """-> one image [len(labels) * H, columns * W]: row r holds `columns` samples generated for labels[r]."""
    device = next(model.parameters()).device
    y = torch.tensor(labels, device=device).repeat_interleave(columns)
    x = model.sample(y, generator)[:, 0].cpu()  # [len(labels) * columns, H, W]
    h, w = x.shape[1:]
    return x.view(len(labels), columns, h, w).permute(0, 2, 1, 3).reshape(len(labels) * h, columns * w)


def draw(ax, grid: torch.Tensor, title: str, names: list[str]) -> None:
    ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1)
    h = grid.shape[0] / len(names)
    ax.set_yticks([h * (r + 0.5) for r in range(len(names))], names, fontsize=7)
    ax.set_xticks([])
    ax.set_title(title, fontsize=9)


def figure(path, grids: dict[str, torch.Tensor], names: list[str], title: str, columns: int) -> None:
    fig, axes = plt.subplots(1, len(grids), figsize=(len(grids) * (0.35 * columns + 1.0), 0.4 * len(names) + 0.8),
                             squeeze=False)
    for ax, (name, grid) in zip(axes[0], grids.items()):
        draw(ax, grid, name, names)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@stage
def main() -> None:
    cfg = config()
    if not data_path(cfg).exists():
        raise InputError(f"{data_path(cfg)}: dataset file not found (run the data stage)")
    shape = tuple(io.load_tensors(data_path(cfg))["train_x"].shape[1:])
    device, chain, first = resolve_device(cfg.device), 0, cfg.forget[0]
    models = ["original", "oracle", *cfg.methods]
    columns = cfg.plot.columns

    def load(name: str, digit: int):
        return load_cvae(cfg, name, chain, None if name == "original" else digit, shape, device)

    def gen():
        return rng.generator(chain, "amnesia", "plot")

    forgotten = {name: torch.cat([sample_rows(load(name, d), [d], columns, gen()) for d in cfg.forget])
                 for name in models}
    labels = list(range(NUM_LABELS))
    every = {name: sample_rows(load(name, first), labels, columns, gen()) for name in models}
    with io.atomic_path(PLOTS) as out:
        out.mkdir()
        figure(out / "forgotten.png", forgotten, [str(d) for d in cfg.forget],
               f"Row d: samples of label d from the model made to forget d (chain {chain})", columns)
        names = [f"{r} (forgotten)" if r == first else str(r) for r in labels]
        for name, grid in every.items():
            figure(out / f"samples_{name}.png", {name: grid}, names, f"forget digit {first}, chain {chain}", columns)
        figure(out / "samples.png", every, names, f"Samples per label (rows), forget digit {first}, chain {chain}",
               columns)


if __name__ == "__main__":
    main()
