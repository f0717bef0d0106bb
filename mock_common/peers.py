"""Peer-address helpers: the socket's address decides, never a header."""

from __future__ import annotations

import ipaddress
from functools import lru_cache


def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text` (IPv6 zone and brackets removed), or None when it is not one."""
    if not text:
        return None
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def unmap(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@lru_cache(maxsize=1024)  # called on every request with the few addresses a machine has
def is_loopback(text: str | None) -> bool:
    """True when `text` is a loopback address: 127.0.0.0/8, ::1 or ::ffff:127.x.x.x."""
    addr = parse_ip(text)
    return addr is not None and unmap(addr).is_loopback


def url_host(host: str) -> str:
    """`host` as it goes in a URL: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
