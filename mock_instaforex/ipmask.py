"""IP masks of the `ip` access level: addresses, CIDR blocks and wildcards, IPv4 and IPv6, in lists."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from mock_common.peers import parse_ip, unmap

from .errors import StoreError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IpMask:
    """A parsed mask: one or more networks; `matches` tells whether an address is inside."""

    text: str
    networks: tuple[Network, ...]

    def matches(self, address: str | None) -> bool:
        """True when `address` (IPv4-mapped IPv6 counts as IPv4) is inside any entry."""
        addr = parse_ip(address)
        if addr is None:
            return False
        addr = unmap(addr)
        return any(addr.version == n.version and addr in n for n in self.networks)


def _wildcard(entry: str) -> Network:
    """`203.0.113.*`, `10.*` or `2001:db8:*`: the trailing wildcards become a prefix length."""
    v6 = ":" in entry
    sep, width, groups = (":", 16, 8) if v6 else (".", 8, 4)
    parts = entry.split(sep)
    fixed: list[str] = []
    for n, part in enumerate(parts):
        if part == "*":
            if any(p != "*" for p in parts[n:]):
                raise StoreError(f"ip_mask entry {entry!r}: a wildcard may only stand for trailing parts")
            break
        fixed.append(part)
    if not v6 and len(parts) > groups:
        raise StoreError(f"ip_mask entry {entry!r} has more than 4 octets")
    base = sep.join(fixed + ["0"] * (groups - len(fixed))) if not v6 else ":".join(fixed) + "::"
    try:
        return ipaddress.ip_network(f"{base}/{len(fixed) * width}", strict=False)
    except ValueError:
        raise StoreError(f"ip_mask entry {entry!r} is not an address, CIDR block or wildcard") from None


@lru_cache(maxsize=4096)  # a mask is parsed again on every data call of an ip-level account
def parse_mask(text: str) -> IpMask:
    """Parse a comma-separated mask; a bad entry raises StoreError naming it."""
    if not isinstance(text, str) or not text.strip():
        raise StoreError(f"ip_mask must be a non-empty string, not {text!r}")
    networks: list[Network] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            raise StoreError(f"ip_mask {text!r} has an empty entry")
        if "*" in entry:
            networks.append(_wildcard(entry))
            continue
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            raise StoreError(f"ip_mask entry {entry!r} is not an address, CIDR block or wildcard") from None
        if (
            isinstance(network, ipaddress.IPv6Network)
            and network.network_address.ipv4_mapped is not None
            and network.prefixlen >= 96
        ):
            mapped = network.network_address.ipv4_mapped
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
        networks.append(network)
    return IpMask(text, tuple(networks))
