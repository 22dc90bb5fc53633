"""Decision boundaries of one seed's model with that seed's held-out points scattered on top."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from unlearning.core.train import predict  # noqa: E402

STYLE = {  # role -> scatter style; the background first so that the sets are drawn over it
    "null": dict(color="tab:olive", s=2, alpha=0.35, label="null (0)"),
    "retain": dict(color="tab:green", s=3, alpha=0.6, label="retain (1)"),
    "A": dict(color="tab:red", s=3, alpha=0.6, label="A"),
    "B": dict(color="tab:blue", s=3, alpha=0.6, label="B"),
}
RESOLUTION = 121  # grid points per axis of the probability map
SCATTER = 400  # points drawn per role


@torch.no_grad()
def probability_map(model, seed_index: int, half_width: float) -> tuple[torch.Tensor, torch.Tensor]:
    """-> axis [R], P(label 1) [R, R] (rows: y, columns: x) of the model of one seed."""
    axis = torch.linspace(-half_width, half_width, RESOLUTION)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], -1)  # [R * R, 2]
    seeds = model.biases[0].shape[0]
    device = next(model.parameters()).device
    logits = predict(model, grid[:, None, :].expand(-1, seeds, -1).contiguous().to(device))  # [R * R, S]
    return axis, torch.sigmoid(logits[:, seed_index]).reshape(RESOLUTION, RESOLUTION).cpu()


def draw(ax, prob_map: tuple, test: dict, seed_index: int, half_width: float, title: str) -> None:
    """prob_map: probability_map(...) of the seed at `seed_index`; test: role -> [S, n, 2]."""
    axis, prob = prob_map
    # grey shading = P(label 1), so that the coloured sets stay readable on top of it
    ax.imshow(prob, cmap="Greys", vmin=0, vmax=1, alpha=0.4, origin="lower", interpolation="bilinear",
              extent=(-half_width, half_width, -half_width, half_width))
    ax.contour(axis, axis, prob, levels=[0.5], colors="black", linewidths=1.2)
    for role, style in STYLE.items():
        pts = test[role][seed_index, :SCATTER].cpu()
        ax.scatter(pts[:, 0], pts[:, 1], linewidths=0, **style)
    ax.set(xlim=(-half_width, half_width), ylim=(-half_width, half_width), aspect="equal", title=title)
    ax.tick_params(labelsize=7)


def boundary_figure(prob_map: tuple, test: dict, seed_index: int, half_width: float, title: str, path) -> None:
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    draw(ax, prob_map, test, seed_index, half_width, title)
    ax.legend(loc="upper right", fontsize=7, markerscale=4, framealpha=0.8,
              title="shade: P(1); line: 0.5", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def overview_figure(prob_maps: dict, test: dict, seed_index: int, half_width: float, title: str, path) -> None:
    """prob_maps: checkpoint name -> probability_map(...); one panel each, four per row."""
    cols = 4
    rows = -(-len(prob_maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.3 * rows), squeeze=False)
    for ax, (name, prob_map) in zip(axes.flat, prob_maps.items()):
        draw(ax, prob_map, test, seed_index, half_width, name)
    for ax in axes.flat[len(prob_maps):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
