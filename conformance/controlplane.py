"""The emulators' /_mock/ control routes over HTTP (so no emulator code is imported)."""

from __future__ import annotations

from typing import Any

import requests


class ControlPlane:
    """JSON calls to `<base>/_mock/<route>`."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/") + "/_mock/"
        self.http = requests.Session()
        self.timeout = timeout

    def __call__(self, route: str, body: Any = None, method: str = "POST") -> Any:
        headers = {"Content-Type": "application/json"}  # the control plane takes JSON writes only, even empty ones
        r = self.http.request(method, self.base + route, json=body, headers=headers, timeout=self.timeout)
        if r.status_code != 200:
            raise AssertionError(f"control route {method} {route} answered {r.status_code}: {r.text[:300]}")
        return r.json()
