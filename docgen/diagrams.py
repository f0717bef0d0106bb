"""Diagrams drawn at build time: a ```dot fenced block becomes inline SVG made by Graphviz `dot`.

Nothing is loaded from a CDN when the page is viewed; the build needs `dot` (Debian: graphviz).
"""

from __future__ import annotations

import re
import shutil
import subprocess

FENCE = re.compile(r"^(?P<indent>[ ]{0,3})```dot[^\n]*\n(?P<source>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


class DiagramError(RuntimeError):
    """A diagram that could not be drawn (no `dot`, or a source it refuses)."""


def render_dot(source: str, where: str = "a page") -> str:
    """SVG markup of a Graphviz source, ready to be inlined in HTML."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError(f"{where}: drawing a diagram needs Graphviz's `dot` (Debian: apt-get install graphviz)")
    done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise DiagramError(f"{where}: dot refused the diagram: {done.stderr.decode('utf-8', 'replace').strip()}")
    svg = done.stdout.decode("utf-8")
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)


def replace_dot_fences(markdown: str, where: str = "a page") -> str:
    """Every ```dot block of `markdown` replaced by its drawing."""

    def draw(match: re.Match[str]) -> str:
        svg = render_dot(match.group("source"), where)
        return f'<figure class="diagram" markdown="0">\n{svg}\n</figure>'

    return FENCE.sub(draw, markdown)
