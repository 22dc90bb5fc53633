"""plot: the decision boundary of every checkpoint for chain 0, with its held-out points.

Writes plots/<checkpoint>.png (one per checkpoint) and plots/overview.png (all of them side by side)."""
from __future__ import annotations

from stages.base.common import stage
from stages.layered.common import PLOTS, load_config, load_model, load_points
from unlearning.core import io
from unlearning.layered import phases, plots


@stage
def main() -> None:
    cfg = load_config()
    test = load_points(cfg, "test")
    hw = cfg.data.half_width
    maps = {name: plots.probability_map(load_model(cfg, name), 0, hw) for name in phases.PHASES}
    with io.atomic_path(PLOTS) as out:
        out.mkdir()
        for name, prob_map in maps.items():
            plots.boundary_figure(prob_map, test, 0, hw, f"{name} (chain 0)", out / f"{name}.png")
        plots.overview_figure(maps, test, 0, hw, f"Decision boundaries, chain 0 ({cfg.data.assignment} assignment)",
                              out / "overview.png")


if __name__ == "__main__":
    main()
