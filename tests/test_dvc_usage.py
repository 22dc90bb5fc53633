"""The everyday DVC commands of the README on a reproduced tiny project: `dvc metrics show` a row per model and
narrow, the scenarios' numbers only when asked, `dvc plots show` rendered by headless Chromium with the network off,
a one-method change compared in a few readable lines, and the PR comment (`make report`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvc_project import ROOT, dvc, sh

WIDTH = 200  # the widest line a terminal shows without wrapping, the bound the README promises
COMPARE_WIDTH = 120  # "what did my change do": read in a narrow terminal or a CI log
MODELS = ("original", "finetune", "head_mask", "oracle", "oracle_b")
# README, "Comparing a change": the invocations whose output a person reads after changing one method
COMPARE = (("exp", "diff"), ("metrics", "diff"), ("params", "diff"))


def widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def test_page_template_is_current_and_loads_nothing_remote():
    sys.path.insert(0, str(ROOT / "vendor" / "vega"))
    import build_page
    page = (ROOT / "vendor" / "vega" / "page.html").read_text()
    assert page == build_page.page(), "vendor/vega/page.html is stale: run python vendor/vega/build_page.py"
    assert not re.search(r"<script[^>]*\bsrc=", page) and "{scripts}" not in page
    assert "html_template = ../vendor/vega/page.html" in (ROOT / ".dvc" / "config").read_text()


def test_metrics_show_is_a_narrow_row_per_model_without_the_scenarios(tiny_run):
    shown = dvc(tiny_run, "metrics", "show")
    rows = [line.split()[0] for line in shown.splitlines()[1:]]
    assert rows == [f"metrics/models/{name}.json" for name in sorted(MODELS)], shown
    assert widest(shown) <= WIDTH, shown
    # the scenarios' numbers when asked (README): one row per metric
    for scenario in ("layered", "amnesia"):
        asked = dvc(tiny_run, "metrics", "diff", "--all", "--targets", f"scenarios/{scenario}/metrics/summary.json")
        assert len(asked.splitlines()) > 10 and widest(asked) <= WIDTH, asked


def render(page: Path, tmp_path: Path) -> str:
    """The DOM of `page` after headless Chromium ran its scripts, with no network: in a new network namespace where
    unshare can make one (root, or user namespaces), and through a proxy that does not exist either way."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    offline = ["unshare", "-n"] if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0 \
        else ["unshare", "-rn"] if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0 \
        else []
    result = subprocess.run([*offline, chromium, "--headless", "--no-sandbox", "--disable-gpu",
                             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                             f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=20000",
                             "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def plots_by_id(dom: str) -> dict[str, str]:
    """{div id: its HTML} of every plot DVC put on the page."""
    parts = re.split(r'<div id="', dom)[1:]
    return {part[:part.index('"')]: part for part in parts}


def test_plots_render_offline_with_a_colour_and_legend_per_model(tiny_run, tmp_path):
    # 17 methods and the retrain in the scatter and the relearn curves: more models than the default run has
    many = [f"method_{i:02d}" for i in range(17)]
    scatter = [{"model": m, "forget_acc": i / 20, "retain_acc": 0.5 + i / 40} for i, m in enumerate(many)]
    (tiny_run / "plots" / "tradeoff.json").write_text(json.dumps(
        [*scatter, {"model": "oracle", "forget_acc": 0.0, "retain_acc": 0.95}]))
    curves = "".join(f"{s},{m},{1 - s / (10 + i)}\n" for i, m in enumerate([*many, "oracle"]) for s in (0, 5))
    (tiny_run / "plots" / "relearn" / "k8.csv").write_text("step,model,forget_acc\n" + curves)
    try:
        dvc(tiny_run, "plots", "show", "-q")
        page = (tiny_run / "dvc_plots" / "index.html").read_text()
        dom = render(tiny_run / "dvc_plots" / "index.html", tmp_path)
    finally:
        sh(tiny_run, "git", "checkout", "-q", "--", "plots")
    shutil.rmtree(tiny_run / "dvc_plots")
    vega = re.findall(r"vegaEmbed\('#(\w+)'", page)
    plots = plots_by_id(dom)
    assert len(vega) >= 9 and not re.search(r"<script[^>]*\bsrc=", page)
    for name in vega:  # one drawn SVG per Vega plot, nothing left blank
        assert plots[name].count('class="marks"') == 1, name
    for name in ("plots_tradeoff_json", "plots_relearn_k8_csv"):
        # legend entries: a symbol group (fill of a point, stroke of a line), then its label's text
        entries = dict((label, colour) for colour, label in re.findall(
            r'role-legend-symbol.*?(?:fill|stroke)="(#[0-9a-f]{6})".*?role-legend-label.*?>([^<]+)</text>',
            plots[name]))
        assert len({entries[m] for m in many}) == len(many), (name, entries)  # a colour of its own for every model
        assert "oracle" not in entries, entries  # the retrain is drawn apart, in black
    assert "retrain (reference)" in plots["plots_tradeoff_json"]
    for name in vega:  # every multi-model plot of the pipeline has a model legend
        if name.startswith("plots_") and not name.startswith("plots_confusion"):
            assert "role-legend-title" in plots[name] and ">model<" in plots[name], name


def test_one_method_change_reads_in_a_few_lines_and_makes_the_pr_comment(tiny_run):
    env = {**os.environ, "COLUMNS": str(COMPARE_WIDTH)}
    try:
        sh(tiny_run, sys.executable, "-m", "dvc", "exp", "run", "-q", "-S", "methods.finetune.lr=0.01")
        for args in COMPARE:
            out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=tiny_run, env=env, capture_output=True,
                                 text=True, check=True).stdout
            assert widest(out) <= COMPARE_WIDTH and "…" not in out, (args, out)
            assert "finetune" in out and "head_mask" not in out, (args, out)
        # make report (the recipe's command; `make` would first build a venv in the copy)
        recipe = (ROOT / "Makefile").read_text().split("\nreport:")[1].split("\n\n")[0]
        assert "python src/pr_comment.py --base $(BASE) --out build/pr_comment.md" in recipe
        sh(tiny_run, sys.executable, "src/pr_comment.py", "--base", "HEAD", "--out", "build/pr_comment.md")
        text = (tiny_run / "build" / "pr_comment.md").read_text()
    finally:
        sh(tiny_run, "git", "reset", "-q", "--hard")
        sh(tiny_run, sys.executable, "-m", "dvc", "checkout", "-q", "--force", "dvc.yaml")
        shutil.rmtree(tiny_run / "build", ignore_errors=True)
    params, table, moved, figures = text.split("\n### ")[1:5]
    assert "methods.finetune.lr" in params and "head_mask" not in params, params
    header = next(line for line in table.splitlines() if line.startswith("| model"))
    assert header.count("|") - 1 <= 8, header
    assert sum(line.startswith("| ") for line in table.splitlines()) == 1 + len(MODELS)
    # only the changed method's metrics can move beyond their interval; it did change (listed or counted)
    listed = [line.split("|")[1].strip() for line in moved.splitlines() if line.startswith("| ")][1:]
    assert all(name == "finetune" for name in listed) and (listed or "within the base's" in moved), moved
    images = re.findall(r"!\[\w+\]\(([^)]+)\)", figures)
    assert len(images) >= 3 and all((tiny_run / "build" / path).resolve().is_relative_to(tiny_run)
                                    for path in images), figures
    assert all((tiny_run / "build" / path).resolve().is_file() for path in images)
    assert json.loads(dvc(tiny_run, "status", "--json", "dvc.yaml")) == {}  # put back as committed
