"""Helpers for the InstaForex tests: a client that checks every response against /openapi.json."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import jsonschema
import requests

KIND_ROUTE = {
    "client": "api/Authentication/RequestClientApiToken",
    "partner": "api/Authentication/RequestPartnerApiToken",
    "mobile": "api/Authentication/RequestMoblieCabinetApiToken",
}
DEMO_PASSWORDS = {20000001: "demo-pass", 20000002: "anything", 20000003: "demo-ip", 30000001: "demo-partner"}


class OpenApi:
    """Finds the operation of a request in the document and validates a response against it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._routes = []
        for template, ops in spec["paths"].items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            self._routes.append((re.compile(f"^{pattern}/?$", re.IGNORECASE), ops))

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        """The operation object for a request path (case-insensitive), or None."""
        for pattern, ops in self._routes:
            if pattern.match(path):
                return ops.get(method.lower())
        return None

    def validate(self, method: str, path: str, response: requests.Response) -> None:
        """Assert the status is documented for the operation and the body matches its schema."""
        op = self.operation(method, path)
        if op is None:  # not an API route: only 404/405 answers are possible there
            assert response.status_code in (404, 405), (method, path, response.status_code)
            body = response.json()
            assert set(body) == {"Message"}
            return
        status = str(response.status_code)
        assert status in op["responses"] or "default" in op["responses"], (method, path, status, response.text[:200])
        spec = op["responses"].get(status) or op["responses"]["default"]
        schema = spec["content"]["application/json"]["schema"]
        assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
        jsonschema.validate(response.json(), {**schema, "components": self.spec["components"]})


class Api:
    """requests against one emulator; every response is validated against its OpenAPI document."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.openapi = OpenApi(self.http.get(base_url + "openapi.json", timeout=10).json())

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        response = self.http.request(method, self.base + path.lstrip("/"), **kwargs)
        self.openapi.validate(method, "/" + path.lstrip("/").split("?", 1)[0], response)
        return response

    def get(
        self, path: str, passkey: str | None = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> requests.Response:
        h = dict(headers or {})
        if passkey is not None:
            h["passkey"] = passkey
        return self.request("GET", path, headers=h, **kw)

    def token(self, kind: str, login: Any, password: Any = None, **kw: Any) -> requests.Response:
        body = {
            "Login": login,
            "Password": DEMO_PASSWORDS.get(int(str(login).strip() or 0), "x") if password is None else password,
        }
        return self.request("POST", KIND_ROUTE[kind], json=body, **kw)

    def passkey(self, kind: str, login: int, password: str | None = None) -> str:
        r = self.token(kind, login, password)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def decimal_json(response: requests.Response) -> Any:
    """The body with numbers as Decimal, for exact arithmetic on figures."""
    return json.loads(response.text, parse_float=Decimal, parse_int=int)
