"""The HTTP face of the emulator: the localhost rule, limits, WSDL, SOAP dispatch, /_mock/.

Everything that reaches spyne has been checked here: a loopback peer, a SOAP 1.1 POST of at most
1 MiB of UTF-8 XML with no DTD, parsed by a hardened lxml parser, with a known operation.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from lxml import etree

from mock_common.dashboard import SECURITY_HEADERS
from mock_common.dashboard import asset as ui_asset
from mock_common.dashboard import page as ui_page
from mock_common.files import without_content
from mock_common.guard import control_refusal, endpoint_host
from mock_common.peers import is_loopback, url_host
from mock_common.server import drop_connection

from .control import Controller
from .dashboard import dashboard_data
from .errors import ScenarioError, StreamsterError
from .soap import ENV_DOCUMENT, ENV_OPERATION, NS, OPERATIONS, SOAP_ENV, build_soap_app

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
MAX_CONTROL_BODY = 64 * 1024 * 1024
REFERENCE_ADDRESS = 'location="http://127.0.0.1:8018/endpoint"'
LOCAL_ONLY = "The Streamster API accepts requests from the local computer only; {peer} is not allowed."
_OPS = {op.lower(): op for op in OPERATIONS}

StartResponse = Callable[..., Any]


_PARSERS = threading.local()  # a parser serves one parse at a time: one per thread, made once


def _parser() -> etree.XMLParser:
    # No DTD loaded, no entity expanded or fetched, no network, default depth and size limits (huge_tree
    # off). A document that has a DTD is then refused whole (`_parse`).
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
            remove_comments=True, remove_pis=True,
        )  # fmt: skip
    return parser


def fault_xml(code: str, text: str) -> bytes:
    """A SOAP 1.1 Fault envelope, with the (empty) detail element an ASMX-style service sends.

    SOAP 1.1 §4.4 reads a fault without <detail> as one about the headers: .NET clients then raise
    SoapHeaderException instead of plain SoapException. Every fault here concerns the request itself.
    """
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{code}</faultcode><faultstring>{escape(text)}</faultstring><detail/>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


class BadRequestError(Exception):
    """A request refused before dispatch: HTTP status and a Client fault text."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__(text)
        self.status = status


def infer_operation(body: etree._Element | None) -> str:
    """The operation a bare body implies (used when SOAPAction is missing)."""
    parts = [] if body is None else [etree.QName(p).localname for p in body if isinstance(p.tag, str)]
    if not parts:
        raise BadRequestError(
            "400 Bad Request", "The request has no SOAPAction and an empty Body: the operation is unknown."
        )
    first = parts[0]
    if first == "Instrument":
        return "GetBars" if "Period" in parts else "GetQuote"
    if first == "Order":
        order = body[0]  # type: ignore[index]
        has_id = any(etree.QName(c).localname == "OrderID" and (c.text or "").strip() for c in order)
        return "ChangeOrder" if has_id else "SendOrder"
    guesses = {"OrderID": "CancelOrder", "PositionID": "ClosePosition", "Position": "ChangePosition"}
    if first in guesses:
        return guesses[first]
    raise BadRequestError(
        "400 Bad Request", f"The request has no SOAPAction and its Body element {first!r} names no operation."
    )


class StreamsterHttp:
    """The WSGI application: one per emulator instance."""

    def __init__(self, controller: Controller, address: Callable[[dict[str, Any]], str]) -> None:
        self.controller = controller
        self.platform = controller.platform
        self._address = address
        self._soap = build_soap_app(controller.platform)
        self._wsdl = resources.files(__package__).joinpath("streamster.wsdl").read_text(encoding="utf-8")
        self._control = ControlRoutes(controller)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR", "")
        if not is_loopback(peer):
            log.warning(
                "refused %s %s from non-local peer %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), peer
            )
            return self._respond(start_response, "403 Forbidden", fault_xml("Client", LOCAL_ONLY.format(peer=peer)))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        if path.startswith("/_mock/") or path == "/_mock":
            return self._control(environ, start_response)
        if method in ("GET", "HEAD"):
            wants_wsdl = path.lower() == "/service.wsdl" or (
                path.lower() == "/endpoint" and "wsdl" in {k.lower() for k in parse_qs(query, keep_blank_values=True)}
            )
            if wants_wsdl:
                wsdl = self._wsdl.replace(REFERENCE_ADDRESS, f'location="{self._address(environ)}"').encode()
                return self._respond(start_response, "200 OK", b"" if method == "HEAD" else wsdl, length=len(wsdl))
            return self._respond(
                start_response,
                "404 Not Found",
                fault_xml("Client", f"GET {path}: the WSDL is at /service.wsdl; SOAP calls are POSTed to /endpoint."),
            )
        if method != "POST":
            return self._respond(
                start_response,
                "405 Method Not Allowed",
                fault_xml("Client", f"{method} is not allowed: POST SOAP 1.1 requests to /endpoint."),
                extra=[("Allow", "GET, POST")],
            )
        return self._soap_call(environ, start_response)

    @staticmethod
    def _respond(
        start_response: StartResponse, status: str, body: bytes, ctype: str = "text/xml; charset=utf-8",
        extra: list[tuple[str, str]] | None = None, length: int | None = None,
    ) -> list[bytes]:  # fmt: skip
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body) if length is None else length))]
        start_response(status, headers + (extra or []))
        return [body]

    def _soap_call(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        record: dict[str, Any] = {"time": self.platform.now().isoformat(), "peer": environ.get("REMOTE_ADDR")}
        try:
            body = self._read_body(environ)
            record["request"] = body  # the journal keeps its start, decoded
            document = self._parse(environ, body)
            operation = self._operation(environ, document)
        except BadRequestError as exc:
            record.update(operation=None, status=int(exc.status[:3]), response=str(exc))
            self.controller.journal.record(record)
            log.info("bad SOAP request: %s", exc)
            return self._respond(
                start_response,
                exc.status,
                fault_xml("Client", str(exc)),
                extra=[("Connection", "close")] if exc.status.startswith("413") else None,
            )
        record["operation"] = operation
        rule = self.controller.faults.take(operation)
        if rule is not None:
            record["injected"] = rule.kind
            if rule.kind == "delay":
                time.sleep(rule.seconds)
            elif rule.kind == "drop":
                record.update(status=None, response=None)
                self.controller.journal.record(record)
                drop_connection(environ)
                start_response("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")])
                return [b""]
            elif rule.kind == "http":  # a bare HTTP error, as a proxy or a crashed service gives
                reply = rule.message.encode()
                record.update(status=rule.status, response=rule.message)
                self.controller.journal.record(record)
                status = f"{rule.status} {HTTPStatus(rule.status).phrase}"
                return self._respond(start_response, status, reply, ctype="text/plain; charset=utf-8")
            else:
                reply = fault_xml(rule.code, rule.message)
                record.update(status=500, response=reply.decode())
                self.controller.journal.record(record)
                return self._respond(start_response, "500 Internal Server Error", reply)
        inner = dict(environ)
        inner.update({
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
            ENV_DOCUMENT: document, ENV_OPERATION: operation,
        })  # fmt: skip
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        reply = b"".join(self._soap(inner, capture))
        record.update(status=int(captured["status"][:3]), response=reply.decode("utf-8", "replace"))
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        self.controller.journal.record(record)
        return self._respond(start_response, captured["status"], reply)

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        length_text = environ.get("CONTENT_LENGTH") or ""
        if length_text:
            try:
                length = int(length_text)
            except ValueError:
                raise BadRequestError("400 Bad Request", f"Content-Length {length_text!r} is not a number.") from None
            if length > MAX_BODY:
                raise BadRequestError(
                    "413 Request Entity Too Large",
                    f"The request body is {length} bytes; the limit is {MAX_BODY} bytes (1 MiB).",
                )
            body = environ["wsgi.input"].read(length) if length > 0 else b""
        else:
            body = environ["wsgi.input"].read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise BadRequestError(
                    "413 Request Entity Too Large", f"The request body is over the limit of {MAX_BODY} bytes (1 MiB)."
                )
        return body

    @staticmethod
    def _parse(environ: dict[str, Any], body: bytes) -> etree._Element:
        ctype = environ.get("CONTENT_TYPE", "")
        media, _, params = ctype.partition(";")
        media = media.strip().lower()
        if media == "application/soap+xml":
            raise BadRequestError(
                "415 Unsupported Media Type",
                "SOAP 1.2 (application/soap+xml) is not supported: send SOAP 1.1 with Content-Type text/xml.",
            )
        if media != "text/xml":
            raise BadRequestError(
                "415 Unsupported Media Type",
                f"Content-Type {ctype or '(none)'!r} is not supported: SOAP 1.1 requests use text/xml; charset=utf-8.",
            )
        charset = re.search(r"charset\s*=\s*\"?([\w.:-]+)", params, re.IGNORECASE)
        if charset and charset.group(1).lower() not in ("utf-8", "utf8", "us-ascii", "ascii"):
            raise BadRequestError(
                "415 Unsupported Media Type", f"charset {charset.group(1)!r} is not supported: send UTF-8."
            )
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestError(
                "400 Bad Request",
                f"The request body is not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start}.",
            ) from None
        if not body.strip():
            raise BadRequestError("400 Bad Request", "The request body is empty: a SOAP 1.1 Envelope is expected.")
        try:
            root = etree.fromstring(body, _parser())
        except etree.XMLSyntaxError as exc:
            raise BadRequestError("400 Bad Request", f"The request is not well-formed XML: {exc}") from None
        # Decided on the parsed document, not on the bytes: a UTF-16 body (which is valid UTF-8 when it
        # is all ASCII) hides "<!DOCTYPE" from a byte search, but not from the parser.
        info = root.getroottree().docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None or info.system_url:
            raise BadRequestError("400 Bad Request", "DTDs and entity declarations are not allowed in a SOAP request.")
        if root.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope":
            raise BadRequestError(
                "400 Bad Request", "SOAP 1.2 envelopes are not supported: use the SOAP 1.1 namespace."
            )
        if root.tag != f"{{{SOAP_ENV}}}Envelope":
            raise BadRequestError("400 Bad Request", f"The document element is {root.tag!r}, not a SOAP 1.1 Envelope.")
        if root.find(f"{{{SOAP_ENV}}}Body") is None:
            raise BadRequestError("400 Bad Request", "The SOAP Envelope has no Body.")
        return root

    @staticmethod
    def _operation(environ: dict[str, Any], document: etree._Element) -> str:
        action = environ.get("HTTP_SOAPACTION")
        if action is not None:
            name = action.strip().strip('"').strip()
            name = re.split(r"[/#]", name)[-1] if name else ""
            if name:
                if name.lower() not in _OPS:
                    raise BadRequestError(
                        "500 Internal Server Error",
                        f"SOAPAction {action!r} is not an operation of the Streamster API ({', '.join(OPERATIONS)}).",
                    )
                return _OPS[name.lower()]
        return infer_operation(document.find(f"{{{SOAP_ENV}}}Body"))


class ControlRoutes:
    """/_mock/ JSON routes over the controller."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refused = control_refusal(environ)  # a web page cannot drive or read the control plane
        if refused is not None:
            return _json(start_response, f"{refused[0]} {HTTPStatus(refused[0]).phrase}", {"error": refused[1]})
        method = environ.get("REQUEST_METHOD", "GET").upper()
        route = environ.get("PATH_INFO", "/_mock").rstrip("/")[len("/_mock") :].strip("/").lower()
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if route == "ui" or route.startswith("ui/"):
            return self._ui(method, route[3:], query, start_response)
        handlers: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, str]], Any]] = {
            ("GET", ""): lambda b, q: self.c.state(),
            ("GET", "state"): lambda b, q: self.c.state(),
            ("POST", "reset"): lambda b, q: self.c.reset(),
            ("POST", "price"): self._price,
            ("POST", "advance"): lambda b, q: {"now": self.c.advance(_number(b, "seconds")).isoformat()},
            ("POST", "scenario"): self._scenario,
            ("GET", "columns"): lambda b, q: self.c.platform.columns,
            ("POST", "columns"): lambda b, q: {
                "window": b.get("window"),
                "visible": self.c.set_columns(_str(b, "window"), b.get("names")),
            },  # type: ignore[arg-type]
            ("POST", "charts"): self._charts,
            ("GET", "faults"): lambda b, q: [r.to_dict() for r in self.c.faults.rules()],
            ("POST", "faults"): self._fail,
            ("DELETE", "faults"): lambda b, q: self.c.clear_faults(),
            ("GET", "journal"): self._journal,
            ("DELETE", "journal"): lambda b, q: self.c.journal.clear(),
            ("GET", "snapshot"): lambda b, q: self.c.snapshot(),
            ("PUT", "snapshot"): lambda b, q: self.c.restore(b),
            ("POST", "snapshot"): lambda b, q: self.c.restore(b),
        }
        handler = handlers.get((method, route))
        if handler is None:
            known = {r for _, r in handlers}
            if route in known:
                allowed = ", ".join(sorted(m for m, r in handlers if r == route))
                return _json(
                    start_response,
                    "405 Method Not Allowed",
                    {"error": f"{method} /_mock/{route} is not allowed; use {allowed}"},
                )
            return _json(
                start_response,
                "404 Not Found",
                {
                    "error": f"no control route /_mock/{route}",
                    "routes": sorted({f"{m} /_mock/{r}" for m, r in handlers}),
                },
            )
        try:
            body = self._body(environ) if method in ("POST", "PUT") else {}
            result = handler(body, query)
        except (ValueError, StreamsterError, ScenarioError, TypeError, OverflowError) as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
        return _json(start_response, "200 OK", {"ok": True} if result is None else result)

    def _ui(self, method: str, name: str, query: dict[str, str], start_response: StartResponse) -> Iterable[bytes]:
        """The dashboard: its page, its static files, and its data (GET only)."""
        if method not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": f"{method} /_mock/ui is not allowed"})
        if name == "data":
            try:
                data = dashboard_data(self.c, query)
            except (ValueError, StreamsterError) as exc:
                return _json(start_response, "400 Bad Request", {"error": str(exc)})
            return _json(start_response, "200 OK", data, SECURITY_HEADERS)
        found = ui_page("streamster") if name == "" else ui_asset(name)
        if found is None:
            return _json(start_response, "404 Not Found", {"error": f"no dashboard file /_mock/ui/{name}"})
        body, ctype = found
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body))), *SECURITY_HEADERS])
        return [b"" if method == "HEAD" else body]

    @staticmethod
    def _body(environ: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ValueError("Content-Length is not a number") from None
        if length > MAX_CONTROL_BODY:
            raise ValueError(f"control request body of {length} bytes is over {MAX_CONTROL_BODY}")
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def _price(self, body: dict[str, Any], query: dict[str, str]) -> Any:
        instrument = _str(body, "instrument")
        if "pips" in body:
            self.c.move_price(instrument, body["pips"])
        else:
            if "bid" not in body:
                raise ValueError("price needs 'bid' (and optionally 'offer') or 'pips'")
            self.c.set_price(instrument, body["bid"], body.get("offer"))
        q = self.c.platform.get_quote(instrument)
        return {"instrument": instrument, "bid": str(q.bid), "offer": str(q.offer)}

    def _scenario(self, body: dict[str, Any], query: dict[str, str]) -> Any:
        if "path" in body:
            path = _str(body, "path")
            try:
                self.c.load_scenario(path)
            except ScenarioError as exc:  # the file may be anything: say where, never what it holds
                raise ScenarioError(without_content("scenario file", path, str(exc))) from None
        elif isinstance(body.get("scenario"), dict):
            self.c.load_scenario(body["scenario"])
        else:
            raise ValueError("scenario needs 'path' (a scenario file) or 'scenario' (its content)")
        return self.c.state()

    def _charts(self, body: dict[str, Any], query: dict[str, str]) -> Any:
        instrument, period = _str(body, "instrument"), _str(body, "period")
        if body.get("open", False):
            self.c.open_chart(instrument, period)
        else:
            self.c.close_chart(instrument, period)
        return {"closed": sorted(f"{i} {p}" for i, p in self.c.platform.closed_charts)}

    def _fail(self, body: dict[str, Any], query: dict[str, str]) -> Any:
        params = {k: body[k] for k in ("status", "code", "message", "seconds") if k in body}
        rule = self.c.fail(
            _str(body, "operation"), kind=body.get("kind", "fault"), times=body.get("times", 1),
            probability=body.get("probability"), **params,
        )  # fmt: skip
        return rule.to_dict()

    def _journal(self, body: dict[str, Any], query: dict[str, str]) -> Any:
        entries = self.c.journal.entries(query.get("operation"))
        if "limit" in query:
            entries = entries[-int(query["limit"]) :] if int(query["limit"]) > 0 else []
        return [e.to_dict() for e in entries]


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string, not {value!r}")
    return value


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{key}' must be a number, not {value!r}")
    return float(value)


def _json(
    start_response: StartResponse, status: str, data: Any, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    body = json.dumps(data, default=str).encode()
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers + (extra or []))
    return [body]


def endpoint_address(host: str, port: int) -> Callable[[dict[str, Any]], str]:
    """The soap:address for a server bound to host:port (a wildcard bind uses a loopback Host header)."""
    wildcard = host in ("0.0.0.0", "::", "")

    def address(environ: dict[str, Any]) -> str:
        if wildcard:  # any other Host (a rebound name, markup) gets the plain loopback address
            return f"http://{endpoint_host(environ, f'127.0.0.1:{port}')}/endpoint"
        return f"http://{url_host(host)}:{port}/endpoint"

    return address


__all__ = ["NS", "StreamsterHttp", "endpoint_address", "fault_xml"]
