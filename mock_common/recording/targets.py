"""Request targets and upstream URLs, made by parsing: which targets may be forwarded, and where to."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from .cassette import MIB

MAX_UPSTREAM_BODY = 16 * MIB  # the largest answer forwarded and recorded (after content decoding)
UPSTREAM_DEADLINE = 60.0  # seconds for a whole forwarded exchange
_TARGET_BAD = re.compile(r"[\x00-\x20\x7f#]")


class UpstreamError(Exception):
    """The upstream gave no usable answer (the recorder answers 502 with this message)."""


def target_problem(target: str) -> str | None:
    """Why a request target is not origin-form (`/path?query`), or None when it is."""
    if not target.startswith("/"):
        return (
            f"the request target {target[:80]!r} is not a path: the recorder forwards origin-form targets "
            "(/path?query) only"
        )
    bad = _TARGET_BAD.search(target)
    if bad:
        return f"the request target holds {bad.group()!r}, which a request target may not"
    return None


def check_upstream(upstream: str) -> str:
    """`upstream` when it is an http(s) URL with a host and no credentials, query or fragment; else ValueError."""
    try:
        parts = urlsplit(upstream)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = urlsplit(""), False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"upstream must be an http:// or https:// URL with a host, not {upstream!r}")
    if parts.query or parts.fragment or parts.username is not None:
        raise ValueError(f"upstream must be a base URL without credentials, query or fragment, not {upstream!r}")
    return upstream


def upstream_url(upstream: str, target: str) -> str:
    """The URL of an origin-form `target` at `upstream`: its scheme and host, its path prefix, then the target."""
    base = urlsplit(upstream)
    path, _, query = target.partition("?")
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path, query, ""))


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def absolute_url(url: str, upstream: str) -> str:
    """A recorded `url` as an absolute URL (a path is taken relative to `upstream`)."""
    return url if _is_absolute(url) else upstream_url(upstream, url if url.startswith("/") else "/" + url)


def relative_url(url: str, upstream: str) -> str:
    """`url` relative to `upstream` (its path and query from the upstream's root) when it lies under it."""
    if not upstream or not _is_absolute(url):
        return url
    got, base = urlsplit(url), urlsplit(upstream)
    if (got.scheme.lower(), got.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return url
    prefix = base.path.rstrip("/")
    if prefix and not (got.path == prefix or got.path.startswith(prefix + "/")):
        return url
    rest = got.path[len(prefix) :] or "/"
    return rest + (f"?{got.query}" if got.query else "")
