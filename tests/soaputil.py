"""Raw SOAP 1.1 helpers for the Streamster tests: build envelopes, post them, read results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import requests
from lxml import etree

NS = "http://www.novativa.com/ws/streamsterapi"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


def envelope(body: str = "") -> str:
    """A SOAP 1.1 envelope around `body` (bare parts, default namespace = Streamster's)."""
    return f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{body}</soap:Body></soap:Envelope>'


def element(name: str, value: Any = None, **children: Any) -> str:
    """`<name xmlns=NS>value</name>` or a structure with child elements in keyword order."""
    if children:
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in children.items() if v is not None)
        return f'<{name} xmlns="{NS}">{inner}</{name}>'
    return f'<{name} xmlns="{NS}">{escape(str(value))}</{name}>'


@dataclass
class Reply:
    """A SOAP reply: HTTP status, raw bytes and the Body element."""

    status: int
    raw: bytes
    body: Any

    @property
    def fault(self) -> tuple[str, str] | None:
        """(faultcode local name, faultstring) when the reply is a Fault."""
        if self.body is None:
            return None
        f = self.body.find(f"{{{SOAP_ENV}}}Fault")
        if f is None:
            return None
        return f.findtext("faultcode").split(":")[-1], f.findtext("faultstring")

    def items(self, wrapper: str, item: str) -> list[dict[str, str]]:
        """The wrapper's items as {field: text} in document order."""
        node = self.body.find(f"{{{NS}}}{wrapper}")
        assert node is not None, f"no {wrapper} in {self.raw!r}"
        return [{etree.QName(c).localname: c.text or "" for c in i} for i in node.findall(f"{{{NS}}}{item}")]

    def fields(self, name: str) -> dict[str, str]:
        """The fields of a single result element."""
        node = self.body.find(f"{{{NS}}}{name}")
        assert node is not None, f"no {name} in {self.raw!r}"
        return {etree.QName(c).localname: c.text or "" for c in node}


def post(url: str, data: str | bytes, action: str | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> Reply:  # fmt: skip
    """POST raw data; parse the reply when it is XML."""
    h = dict(HEADERS)
    if action is not None:
        h["SOAPAction"] = f'"{action}"'
    h.update(headers or {})
    r = requests.post(url, data=data if isinstance(data, bytes) else data.encode("utf-8"), headers=h, timeout=timeout)
    body = None
    if r.content.strip().startswith(b"<"):
        body = etree.fromstring(r.content).find(f"{{{SOAP_ENV}}}Body")
    return Reply(r.status_code, r.content, body)


def call(mock: Any, action: str, body: str = "") -> Reply:
    """Call `action` on a StreamsterMock with a bare body."""
    return post(mock.endpoint_url, envelope(body), action)


def send_order(mock: Any, **fields: Any) -> Reply:
    """SendOrder with the given Order fields (in the order given)."""
    return call(mock, "SendOrder", element("Order", **fields))
