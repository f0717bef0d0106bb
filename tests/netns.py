"""A second, non-loopback host for tests: a network namespace joined to this one by a veth pair."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .conftest import require

# RFC 2544 benchmarking addresses: our own test hosts only, never routed anywhere else.
PREFIX = "198.18"


@dataclass
class Peer:
    """The namespace: its name, its address, and the host's address as seen from it."""

    name: str
    address: str
    host_address: str

    def request(
        self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one HTTP request from inside the namespace; (status, body); status 0 when no answer."""
        script = (
            "import json,sys,urllib.request,urllib.error\n"
            "a=json.loads(sys.stdin.read())\n"
            "req=urllib.request.Request(a['url'],data=a['body'].encode('latin-1') or None,method=a['method'],headers=a['headers'])\n"
            "try:\n r=urllib.request.urlopen(req,timeout=10);s,b=r.status,r.read()\n"
            "except urllib.error.HTTPError as e:\n s,b=e.code,e.read()\n"
            "except OSError as e:\n s,b=0,str(e).encode()\n"
            "sys.stdout.write(json.dumps([s,b.decode('latin-1')]))\n"
        )
        args = {"url": url, "method": method, "body": body.decode("latin-1"), "headers": headers or {}}
        out = subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, "-c", script],
            input=json.dumps(args), capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        status, text = json.loads(out.stdout)
        return status, text.encode("latin-1")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


@contextmanager
def remote_peer() -> Iterator[Peer]:
    """Create a namespace with a veth pair (skip, or fail with REQUIRE_NETNS=1, when not possible)."""
    tag = uuid.uuid4().hex[:6]
    name, host_if, peer_if = f"bm-{tag}", f"bmh{tag}", f"bmp{tag}"
    octet = int(tag[:2], 16)
    host_addr, peer_addr = f"{PREFIX}.{octet}.1", f"{PREFIX}.{octet}.2"
    usable = shutil.which("ip") is not None and os.geteuid() == 0
    if usable:
        usable = _ip("netns", "add", name, check=False).returncode == 0
    require("REQUIRE_NETNS", usable, "network namespaces need root and iproute2 (ip netns)")
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        _ip("link", "set", peer_if, "netns", name)
        _ip("addr", "add", f"{host_addr}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{peer_addr}/30", "dev", peer_if)
        _ip("netns", "exec", name, "ip", "link", "set", peer_if, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield Peer(name, peer_addr, host_addr)
    finally:
        _ip("link", "del", host_if, check=False)
        _ip("netns", "del", name, check=False)


def as_json(body: bytes) -> Any:
    """Parse a JSON body."""
    return json.loads(body)
