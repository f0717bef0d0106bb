"""MkDocs hooks (mkdocs.yml `hooks:`): the generated parts of the pages, made at every build.

A page asks for a generated part with a directive line, alone on its line:

    <!-- generate: cli mock_streamster.cli -->          the command line, from build_parser()
    <!-- generate: routes mock_streamster.control:Controller -->   the /_mock/ routes
    <!-- generate: schema scenario -->                  a file format, from its JSON Schema
    <!-- generate: bench-table -->, <!-- generate: bench-chart -->   bench/results.json

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

from docgen import bench, cli, diagrams, routes, schemas  # noqa: E402

log = logging.getLogger("mkdocs.hooks.docgen")
DIRECTIVE = re.compile(r"^<!-- generate: (?P<kind>[a-z-]+)(?: (?P<argument>\S+))? -->[ \t]*$", re.M)
# Pages generated from the JSON Schemas of the file formats: built once `mock_common.schemas` exists.
FORMAT_PAGES = ("reference/formats/scenario.md", "reference/formats/accounts.md", "reference/formats/cassette.md")
# Pages other branches write (mkdocs.yml places them): listed in the navigation once they exist.
# Any other navigation entry without its page still fails the build.
PLANNED_PAGES = ("architecture.md", "state-file.md", "recording.md", "backtest.md")


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
    if kind == "bench-chart":
        svg = bench.chart_svg(bench.load(ROOT / "bench" / "results.json"))
        return '<figure class="chart" markdown="0">\n' + _one_block(svg) + "\n</figure>\n"
    raise ValueError(f"unknown directive kind {kind!r} (cli, routes, schema, bench-table, bench-chart)")


def _one_block(html: str) -> str:
    """Inline markup with no blank line, so Markdown keeps it as one raw HTML block."""
    return "\n".join(line for line in html.splitlines() if line.strip())


def schemas_available() -> bool:
    """Whether the file formats' JSON Schemas ship with this checkout (`mock_common.schemas`)."""
    try:
        importlib.import_module("mock_common.schemas")
    except ModuleNotFoundError as exc:
        if exc.name != "mock_common.schemas":
            raise
        return False
    return True


def _without_pages(nav: Any, pages: tuple[str, ...]) -> Any:
    if isinstance(nav, list):
        kept = [_without_pages(item, pages) for item in nav]
        return [item for item in kept if item not in (None, {}, [])]
    if isinstance(nav, dict):
        return {k: v for k, v in ((k, _without_pages(v, pages)) for k, v in nav.items()) if v not in (None, {}, [])}
    return None if nav in pages else nav


def on_config(config: Any) -> Any:
    if not schemas_available():
        log.info("file format pages left out: mock_common.schemas is not in this checkout yet")
        config["nav"] = _without_pages(config["nav"], FORMAT_PAGES)
    missing = tuple(p for p in PLANNED_PAGES if not (Path(config["docs_dir"]) / p).is_file())
    if missing:
        log.info("planned pages not written yet, left out of the navigation: %s", ", ".join(missing))
        config["nav"] = _without_pages(config["nav"], missing)
    return config


def on_files(files: Any, config: Any) -> Any:
    if not schemas_available():
        for uri in FORMAT_PAGES:
            found = files.get_file_from_path(uri)
            if found is not None:
                files.remove(found)
    return files


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
