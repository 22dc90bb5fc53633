"""plot: generated samples per label (rows = labels 0-9) of the first seed's original, oracle and every method
-> plots/samples_<model>.png and plots/samples.png (all models side by side, same z draws in every panel)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from stages.amnesia.common import PLOTS, config, data_path, load_cvae  # noqa: E402
from stages.base.common import stage  # noqa: E402
from unlearning.core import io, rng  # noqa: E402
from unlearning.amnesia.config import NUM_LABELS  # noqa: E402
from unlearning.core.io import InputError  # noqa: E402
from unlearning.core.train import resolve_device  # noqa: E402


def sample_grid(model, columns: int, generator: torch.Generator) -> torch.Tensor:
    """-> one image [10 * H, columns * W]: row r holds `columns` samples generated for label r."""
    device = next(model.parameters()).device
    labels = torch.arange(NUM_LABELS, device=device).repeat_interleave(columns)
    x = model.sample(labels, generator)[:, 0].cpu()  # [10 * columns, H, W]
    h, w = x.shape[1:]
    return x.view(NUM_LABELS, columns, h, w).permute(0, 2, 1, 3).reshape(NUM_LABELS * h, columns * w)


def draw(ax, grid: torch.Tensor, title: str, forget: int) -> None:
    ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1)
    h = grid.shape[0] / NUM_LABELS
    ax.set_yticks([h * (r + 0.5) for r in range(NUM_LABELS)],
                  [f"{r} (forgotten)" if r == forget else str(r) for r in range(NUM_LABELS)], fontsize=7)
    ax.set_xticks([])
    ax.set_title(title, fontsize=9)


@stage
def main() -> None:
    cfg = config()
    if not data_path(cfg).exists():
        raise InputError(f"{data_path(cfg)}: dataset file not found (run the data stage)")
    shape = tuple(io.load_tensors(data_path(cfg))["train_x"].shape[1:])
    device, seed = resolve_device(cfg.device), cfg.seeds[0]
    models = ["original", "oracle", *cfg.methods]
    grids = {name: sample_grid(load_cvae(cfg, name, seed, shape, device), cfg.plot.columns,
                               rng.generator(seed, "amnesia", "plot")) for name in models}
    with io.atomic_path(PLOTS) as out:
        out.mkdir()
        for name, grid in grids.items():
            fig, ax = plt.subplots(figsize=(0.4 * cfg.plot.columns + 1.2, 4.6))
            draw(ax, grid, f"{name} (seed {seed})", cfg.forget)
            fig.tight_layout()
            fig.savefig(out / f"samples_{name}.png", dpi=100)
            plt.close(fig)
        fig, axes = plt.subplots(1, len(models), figsize=(len(models) * (0.35 * cfg.plot.columns + 1.0), 4.4))
        for ax, (name, grid) in zip(axes, grids.items()):
            draw(ax, grid, name, cfg.forget)
        fig.suptitle(f"Samples per label (rows), forget digit {cfg.forget}, seed {seed}", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "samples.png", dpi=100)
        plt.close(fig)


if __name__ == "__main__":
    main()
