"""The control plane's guard against web pages: JSON bodies only, and a loopback Host only.

A page in the user's browser can POST a form or a `text/plain` fetch to 127.0.0.1 without asking
(a CORS "simple request"); anything sent as `application/json` needs a preflight the emulators
never grant, so requiring that media type stops cross-site writes. DNS rebinding (a page whose
own name now resolves to 127.0.0.1) is stopped by the Host check: the browser still sends the
page's name, which is not a loopback name or address. Both emulators call `control_refusal`
before any /_mock/ route runs. The same rule decides which Host a server may echo into a URL it
gives out (`endpoint_host`, `server_base`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .peers import is_loopback, parse_ip, url_host

WRITES = ("POST", "PUT", "PATCH")
_PORT = re.compile(r"[0-9]{1,5}")
_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def loopback_host(value: str | None) -> str | None:
    """`value` (a Host header) normalized when it names this computer (localhost, *.localhost, a
    loopback address) with an optional valid port, else None."""
    if not value:
        return None
    text = value.strip().lower()
    port = ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else ""
        has_port = bool(rest)
    else:
        host, has_port, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
        has_port = bool(has_port)
        if not host:
            host, has_port = text, False
    if has_port and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        return None
    host = host.rstrip(".")
    addr = parse_ip(host) if host and "%" not in host else None
    if addr is not None:
        if not is_loopback(host):
            return None
        shown = f"[{addr}]" if addr.version == 6 else str(addr)
    elif _NAME.fullmatch(host) and (host == "localhost" or host.endswith(".localhost")):
        shown = host
    else:
        return None
    return f"{shown}:{int(port)}" if has_port else shown


def address_host(value: str) -> bool:
    """Whether a Host header names an IP address (with an optional port): no name a DNS answer could rebind."""
    text = value.strip()
    if text.startswith("["):  # an IPv6 address in a Host header is in brackets
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return False
        port = rest[1:] if rest else None
    elif text.count(":") > 1:
        return False
    else:
        host, sep, port_text = text.partition(":")
        port = port_text if sep else None
    if port is not None and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        return False
    return "%" not in host and parse_ip(host) is not None


def host_refusal(environ: dict[str, Any], who: str, addresses: bool = False) -> str | None:
    """Why a request must be refused for its Host header (DNS rebinding), or None when it may be served.

    A loopback name or address passes; with `addresses`, any IP address does too (a server bound beyond
    loopback is reached by address). A request without a Host header (HTTP/1.0) passes.
    """
    host = environ.get("HTTP_HOST")
    if host is None or loopback_host(host) is not None or (addresses and address_host(host)):
        return None
    shown = host if len(host) <= 80 else host[:80] + "..."
    allowed = "127.0.0.1, [::1], localhost" + (" or an IP address" if addresses else " or *.localhost")
    return (
        f"{who} answer requests addressed to this computer only (Host {allowed}), not Host {shown!r}: "
        "a web page cannot reach them through DNS rebinding."
    )


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 1  # unreadable: treat as a body


def control_refusal(environ: dict[str, Any]) -> tuple[int, str] | None:
    """(HTTP status, message) when a /_mock/ request must be refused, else None.

    A Host header that is not a loopback name or address gets 403. POST, PUT and PATCH (and any
    request that carries a body) need Content-Type application/json, else 415.
    """
    refused = host_refusal(environ, "The control routes")
    if refused is not None:
        return 403, refused
    method = environ.get("REQUEST_METHOD", "GET").upper()
    has_body = _content_length(environ) > 0 or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if method in WRITES or has_body:
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype.partition(";")[0].strip().lower() != "application/json":
            return 415, (
                f"{method} /_mock/ needs Content-Type: application/json (even with an empty body), "
                f"not {ctype[:80] or '(none)'!r}: a web page cannot send that without the browser asking first."
            )
    return None


def endpoint_host(environ: dict[str, Any], fallback: str) -> str:
    """The Host of the request for a URL this server gives out, when it is a loopback one; else `fallback`."""
    return loopback_host(environ.get("HTTP_HOST")) or fallback


def server_base(host: str, port: int) -> Callable[[dict[str, Any]], str]:
    """This server's base URL (`http://host:port/`) for a request, for the URLs it gives out (a WSDL's
    soap:address): the bound address, or for a wildcard bind the request's Host when it is a loopback
    one (any other Host, a rebound name or markup, gets 127.0.0.1). The emulators and the recorder share it."""
    if host in ("0.0.0.0", "::", ""):
        fallback = f"127.0.0.1:{port}"
        return lambda environ: f"http://{endpoint_host(environ, fallback)}/"
    base = f"http://{url_host(host)}:{port}/"
    return lambda environ: base
