"""MkDocs hooks (mkdocs.yml `hooks:`): the generated parts of the pages, made at every build.

A page asks for a generated part with a directive line, alone on its line:

    <!-- generate: cli mock_streamster.cli -->          the command line, from build_parser()
    <!-- generate: routes mock_streamster.control:Controller -->   the /_mock/ routes
    <!-- generate: schema scenario -->                  a file format, from its JSON Schema
    <!-- generate: bench-table -->, <!-- generate: bench-chart -->   bench/results.json
    <!-- generate: bench-figures persist -->           bench/figures/persist.txt, or "to be measured"

and a ```dot block becomes an SVG drawing. A directive the build cannot honour (an unknown kind,
a module that fails to import, a route without a docstring) stops the build with the page's name.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `mkdocs` run as a script has its own folder first, not the checkout
    sys.path.insert(0, str(ROOT))

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import event_priority  # noqa: E402

from docgen import bench, cli, diagrams, layout, routes, schemas  # noqa: E402

log = logging.getLogger("mkdocs.hooks.docgen")
DIRECTIVE = re.compile(r"^<!-- generate: (?P<kind>[a-z-]+)(?: (?P<argument>\S+))? -->[ \t]*$", re.M)
# The installed layout (broker_mocks.client, broker_mocks.conformance) for the API reference: mkdocs.yml
# lists it first in mkdocstrings' `paths`, so griffe reads those packages under their installed names.
API_LAYOUT = ROOT / "build" / "docs-api"


def _object(spec: str) -> Any:
    """`package.module:Name` (or a bare module) imported."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def generate(kind: str, argument: str | None) -> str:
    """The Markdown a directive stands for."""
    if kind == "cli":
        return cli.parser_markdown(_object(argument or "").build_parser(), level=3)
    if kind == "routes":
        return routes.routes_markdown(_object(argument or ""))
    if kind == "schema":
        return schemas.schema_markdown(schemas.load(argument or ""))
    if kind == "bench-table":
        return bench.table_markdown(bench.load(ROOT / "bench" / "results.json"))
    if kind == "bench-figures":
        if not re.fullmatch(r"[a-z]+", argument or ""):
            raise ValueError(f"bench-figures needs a benchmark's name (bench/figures/NAME.txt), not {argument!r}")
        return bench.figures_markdown(ROOT / "bench" / "figures" / f"{argument}.txt")
    if kind == "bench-chart":
        svg = bench.chart_svg(bench.load(ROOT / "bench" / "results.json"))
        return '<figure class="chart" markdown="0">\n' + _one_block(svg) + "\n</figure>\n"
    raise ValueError(f"unknown directive kind {kind!r} (cli, routes, schema, bench-table, bench-chart, bench-figures)")


def _one_block(html: str) -> str:
    """Inline markup with no blank line, so Markdown keeps it as one raw HTML block."""
    return "\n".join(line for line in html.splitlines() if line.strip())


@event_priority(100)  # before mkdocstrings' on_config, which reads the paths
def on_config(config: Any) -> Any:
    layout.build(API_LAYOUT)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    where = page.file.src_uri

    def expand(match: re.Match[str]) -> str:
        try:
            return generate(match.group("kind"), match.group("argument"))
        except Exception as exc:  # every failure stops the build, named by page and directive
            raise PluginError(f"{where}: {match.group(0).strip()}: {type(exc).__name__}: {exc}") from exc

    markdown = DIRECTIVE.sub(expand, markdown)
    try:
        return diagrams.replace_dot_fences(markdown, where)
    except diagrams.DiagramError as exc:
        raise PluginError(str(exc)) from exc
