"""Writes vendor/vega/page.html: DVC's plots page template with the vendored vega builds inline (no network)."""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILDS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")  # load order: vega-lite and embed need vega
PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC plots (offline)</title>
%s
    <script type="text/javascript">
        // DVC calls vegaEmbed(element, spec) with no options: draw SVG, whose text, legends and marks a reader can
        // select and a test can count, instead of vega-embed's default canvas
        const embedDefault = vegaEmbed;
        window.vegaEmbed = (el, spec, opts) => embedDefault(el, spec, Object.assign({renderer: "svg"}, opts));
    </script>
    <style>table { border-spacing: 15px; } body { font-family: sans-serif; }</style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def inline(build: str) -> str:
    # the builds' source maps are not vendored: drop the comment that points to them
    code = "\n".join(line for line in (HERE / build).read_text().splitlines()
                     if not line.startswith("//# sourceMappingURL="))
    return f'    <script type="text/javascript">/* {build} */\n{code}\n    </script>'


def page() -> str:
    return PAGE % "\n".join(inline(build) for build in BUILDS)


if __name__ == "__main__":
    (HERE / "page.html").write_text(page())
