"""The dashboard's static files (mock_common/ui/) and helpers the emulators' data providers share."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from .masking import mask, mask_target

UI_PREFIX = "/_mock/ui"
MAX_BODY_SHOWN = 8000  # characters of a journal body sent to the page; the rest is cut, and says so
_ASSET = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(css|js|html|svg)$")
_TYPES = {
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "svg": "image/svg+xml",
}
# The page loads only its own files and talks only to its own emulator. The one inline style allowed
# is the fixed <style> lightweight-charts adds for its attribution logo (ui/lightweight-charts.js).
CHARTS_LOGO_STYLE = "'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='"
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        f"default-src 'none'; script-src 'self'; style-src 'self' {CHARTS_LOGO_STYLE}; img-src 'self' data:; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
]


def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of a dashboard file, or None for a name that is not one."""
    match = _ASSET.match(name)
    if match is None:
        return None
    file = resources.files(__package__).joinpath("ui", name)
    if not file.is_file():
        return None
    return file.read_bytes(), _TYPES[match.group(1)]


def page(emulator: str) -> tuple[bytes, str]:
    """The dashboard page of `emulator` ('streamster' or 'instaforex')."""
    found = asset(f"{emulator}.html")
    if found is None:  # the package is broken: say so plainly
        raise FileNotFoundError(f"dashboard page {emulator}.html is missing from mock_common/ui/")
    return found


def cut(text: Any, limit: int = MAX_BODY_SHOWN) -> str:
    """A journal body for the page: text, cut at `limit` characters with a note of how much was left out."""
    if text is None:
        return ""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters)"


_TOKEN = re.compile(r"[0-9a-f]{32}")


def scrub(text: Any) -> str | None:
    """A body with its secret fields masked (`mock_common.masking`, on the parsed body) and a bare API
    token cut to its first characters: the page shows bodies to whoever looks."""
    if text is None:
        return None
    text = mask(str(text)) or ""
    if len(text) < 40 and text.strip().startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, str) and _TOKEN.fullmatch(value):
            return f'"{value[:6]}…"'
    return text


def journal_rows(
    entries: list[dict[str, Any]], limit: int, name_key: str, total: int | None = None
) -> list[dict[str, Any]]:
    """The newest `limit` journal records, newest first, with bodies masked and cut and failures flagged."""
    rows = []
    newest = total if total is not None else len(entries)
    for n, e in enumerate(reversed(entries[-limit:] if limit > 0 else [])):
        status = e.get("status")
        failed = bool(e.get("injected")) or status is None or (isinstance(status, int) and status >= 400)
        rows.append({
            "seq": e.get("seq", newest - n), "time": e.get("time"), "name": e.get(name_key) or e.get("path") or "?",
            "method": e.get("method", "POST"), "path": mask_target(e.get("path")), "status": status,
            "injected": e.get("injected"), "failed": failed, "duration_ms": e.get("duration_ms"),
            "peer": e.get("ip") or e.get("peer"), "request": cut(scrub(e.get("request"))), "response": cut(scrub(e.get("response"))),
            "reason": e.get("reason"),
        })  # fmt: skip
    return rows


def query_int(query: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; ValueError names a bad one."""
    text = query.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"'{key}' must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"'{key}' must be between {low} and {high}, not {value}")
    return value
