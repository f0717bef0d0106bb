"""Check a built site loads nothing from the network: `python -m docgen.check_site site`.

Every page's scripts, stylesheets, images, frames and media, and every `url(...)` in the site's
stylesheets, must be a file of the site. Links a reader may follow (`<a href>`) are not loads.
Exit 1 listing each network load found, 0 when there is none.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, protocol-relative //
LOADS = {"script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "source": ("src", "srcset"),
         "video": ("src", "poster"), "audio": ("src",), "embed": ("src",), "object": ("data",)}  # fmt: skip
LOADING_LINKS = {"stylesheet", "preconnect", "preload", "prefetch", "dns-prefetch", "modulepreload", "icon", "manifest"}
CSS_URL = re.compile(r"""url\(\s*['"]?((?:[a-z][a-z0-9+.-]*:)?//[^'")\s]+)""", re.I)


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "link" and set(values.get("rel", "").lower().split()) & LOADING_LINKS:
            names: tuple[str, ...] = ("href",)
        else:
            names = LOADS.get(tag, ())
        for name in names:
            for url in values.get(name, "").split(","):
                url = url.strip().split(" ")[0]
                if REMOTE.match(url):
                    self.found.append(f"<{tag} {name}={url}>")
        if "style" in values:
            self.found += [f"<{tag} style> url({u})" for u in CSS_URL.findall(values["style"])]

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.found += [f"<style> url({u})" for u in CSS_URL.findall(data)]


def network_loads(site: Path) -> list[str]:
    """`file: what it loads` for every load from the network in the built site."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        problems += [f"{page.relative_to(site)}: {load}" for load in parser.found]
    for sheet in sorted(site.rglob("*.css")):
        problems += [f"{sheet.relative_to(site)}: url({u})" for u in CSS_URL.findall(sheet.read_text(encoding="utf-8"))]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Entry point: check the site folder named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    site = Path(args[0] if args else "site")
    if not (site / "index.html").is_file():
        print(f"check_site: {site} holds no built site (no index.html)", file=sys.stderr)
        return 2
    problems = network_loads(site)
    for problem in problems:
        print(f"check_site: loads from the network: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_site: {site}: nothing loaded from the network")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
