"""The HTTP face of the emulator: the localhost rule, the WSDL, and SOAP calls through the one call
pipeline (mock_common.pipeline); /_mock/ goes to the common control plane (mock_common.control).

A SOAP call is read here (`SoapWire.read`): a SOAP 1.1 POST of at most 1 MiB of UTF-8 XML with no
DTD, parsed by a hardened lxml parser, whose operation is named by its SOAPAction (else its Body);
anything else is refused before any operation runs. The call itself is `SoapService.dispatch`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from lxml import etree

from mock_common.control import ControlApp
from mock_common.faults import FaultRule, Reply
from mock_common.guard import server_base
from mock_common.peers import is_loopback
from mock_common.pipeline import Call, EmulatorApi, Pipeline, RefusedError, status_line

from .contract import READS
from .control import Controller
from .dashboard import dashboard_data
from .soap import NS, SOAP_ENV, BadRequestError, SoapService, fault_xml, operation_of

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
REFERENCE_ADDRESS = 'location="http://127.0.0.1:8018/endpoint"'
LOCAL_ONLY = "The Streamster API accepts requests from the local computer only; {peer} is not allowed."

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


class StreamsterHttp:
    """The WSGI application: one per emulator instance (and one per in-process route, for its address)."""

    def __init__(self, controller: Controller, address: Callable[[dict[str, Any]], str]) -> None:
        self.controller = controller
        self.platform = controller.platform
        self._address = address
        self._wsdl = resources.files(__package__).joinpath("streamster.wsdl").read_text(encoding="utf-8")
        self._control = ControlApp(controller, dashboard_data)
        self.pipeline = Pipeline(
            SoapWire(controller, SoapService(controller.api))
        )  # lockstep and history end: lockstep.py

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
        if ControlApp.handles(path):
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
        return self.pipeline(environ, start_response)

    @staticmethod
    def _respond(
        start_response: StartResponse, status: str, body: bytes, ctype: str = "text/xml; charset=utf-8",
        extra: list[tuple[str, str]] | None = None, length: int | None = None,
    ) -> list[bytes]:  # fmt: skip
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body) if length is None else length))]
        start_response(status, headers + (extra or []))
        return [body]


_READS = frozenset(READS)


class SoapWire(EmulatorApi):
    """Streamster's side of the call pipeline: how a SOAP request is read and named, the call, the faults."""

    def __init__(self, controller: Controller, service: SoapService) -> None:
        super().__init__(controller)
        self.service = service
        self.fault_replies = FAULT_REPLIES

    def read(self, environ: dict[str, Any]) -> Call:
        """The SOAP call in the request: its operation and its parsed document; RefusedError (a Client fault
        with a 4xx, or 500 for an unknown SOAPAction) for anything else."""
        details = {"peer": environ.get("REMOTE_ADDR")}
        body = None
        try:
            body = self._read_body(environ)
            document = self._parse(environ, body)
            operation = operation_of(environ.get("HTTP_SOAPACTION"), document)
        except BadRequestError as exc:
            log.info("bad SOAP request: %s", exc)
            fault = fault_xml("Client", str(exc))
            headers = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(fault)))]
            if exc.status.startswith("413"):
                headers.append(("Connection", "close"))  # the rest of the body is not read
            raise RefusedError((exc.status, headers, fault), str(exc), body, details) from None
        return Call(operation, body, details, document)

    def call(self, call: Call, environ: dict[str, Any]) -> Reply:
        """The operation, run by spyne's service definition on the parsed document."""
        status, body, refusal = self.service.dispatch(call.operation, call.data)  # type: ignore[arg-type]
        call.refusal = refusal
        return _reply(status, body)

    def changes_state(self, call: Call, status: int) -> bool:
        """Every operation but the reads may change the platform; a refused read records its message."""
        return not (call.operation in _READS and status == 200)

    def error_reply(self, status: int, text: str) -> Reply:
        """A Server fault (a Client one below 500)."""
        return _reply(status, fault_xml("Client" if status < 500 else "Server", text))

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
        return body  # type: ignore[no-any-return]

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


def _reply(status: int, body: bytes, ctype: str = "text/xml; charset=utf-8") -> Reply:
    return status_line(status), [("Content-Type", ctype), ("Content-Length", str(len(body)))], body


# The Streamster faults an injected rule answers with (the emulator, its recorder and replay server): a
# SOAP fault (500), or a bare HTTP error as a proxy or a crashed service gives. Delays and drops are the
# common pipeline's (mock_common.pipeline).
FAULT_REPLIES: dict[str, Callable[[FaultRule], Reply]] = {
    "fault": lambda rule: _reply(500, fault_xml(rule.code, rule.message)),
    "http": lambda rule: _reply(rule.status, rule.message.encode(), "text/plain; charset=utf-8"),
}


def endpoint_address(host: str, port: int) -> Callable[[dict[str, Any]], str]:
    """The soap:address for a server bound to host:port (`guard.server_base`'s rule, then /endpoint)."""
    base = server_base(host, port)
    return lambda environ: base(environ) + "endpoint"


__all__ = ["FAULT_REPLIES", "NS", "StreamsterHttp", "endpoint_address", "fault_xml"]
