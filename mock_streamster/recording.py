"""Record and replay for the Streamster API: SOAP matching, the WSDL, and the drift check.

The shared machinery is in `mock_common.recording`; this module says what is Streamster-specific.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import logging
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from lxml import etree

from mock_common.recording.cassette import Cassette, Request, Response
from mock_common.recording.drift import REFUSAL, SUCCESS, Answer, Report, compare, xml_shape, xml_tree
from mock_common.recording.profile import ApiProfile, flatten_xml

from .contract import OPERATIONS, canonical
from .server import StreamsterMock
from .soap import SOAP_ENV, BadRequestError, action_name, fault_xml, infer_operation
from .wire import FAULT_REPLIES

log = logging.getLogger(__name__)

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


@lru_cache(maxsize=1)
def wsdl_bytes() -> bytes:
    """The reference WSDL shipped with the emulator."""
    return resources.files(__package__).joinpath("streamster.wsdl").read_bytes()


def _body(text: str) -> etree._Element | None:
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return root.find(f"{{{SOAP_ENV}}}Body")


class StreamsterProfile(ApiProfile):
    """Streamster: SOAP 1.1 over HTTP; nothing secret in the protocol itself (it trusts localhost)."""

    name = "streamster"
    contract_kind = "wsdl"
    default_upstream = "http://127.0.0.1:8018/"
    entry = "service.wsdl"
    operations = OPERATIONS
    fault_replies = FAULT_REPLIES

    def contract_hash(self) -> str:
        """sha256 of the reference WSDL."""
        return hashlib.sha256(wsdl_bytes()).hexdigest()

    def soap_action(self, req: Request) -> str | None:
        """The operation: the SOAPAction header (quotes and any namespace prefix dropped), else the body's."""
        if req.method != "POST":
            return None
        action = req.header("SOAPAction")
        if action is not None:
            name = action_name(action)
            if name:
                return canonical(name) or name
        body = _body(req.body)
        try:
            return infer_operation(body) if body is not None else None
        except BadRequestError:
            return None

    def features(self, req: Request) -> tuple[str, dict[str, Any]]:
        """GET by path and query; POST by operation and the body's elements (prefixes and whitespace ignored)."""
        if req.method != "POST":
            return super().features(req)
        feats: dict[str, Any] = {}
        body = _body(req.body)
        if body is None:
            feats["body"] = req.body.strip()
        else:
            flatten_xml(body, "Body", feats)
        return f"POST {self.soap_action(req) or '(no SOAPAction)'}", feats

    def feature_headers(self, req: Request) -> tuple[str, ...]:
        """The SOAPAction."""
        return (req.header("SOAPAction") or "",)

    def describe(self, req: Request) -> str:
        """`GetQuote(Instrument='EUR/USD')`, or `GET /service.wsdl`."""
        if req.method != "POST":
            return super().describe(req)
        feats = self.features(req)[1]
        args = ", ".join(f"{k.split('/', 2)[-1]}={v!r}" for k, v in list(feats.items())[:4])
        more = ", ..." if len(feats) > 4 else ""
        return f"{self.soap_action(req) or '(no SOAPAction)'}({args}{more})"

    def miss_response(self, text: str) -> Response:
        """A soap:Client fault, as the API answers a request it cannot serve."""
        return Response(500, {"Content-Type": "text/xml; charset=utf-8"}, fault_xml("Client", text).decode())

    def error_response(self, status: int, text: str) -> Response:
        """A SOAP fault (soap:Client for the client's mistakes, soap:Server for the upstream's) with `status`."""
        code = "Client" if status < 500 else "Server"
        return Response(status, {"Content-Type": "text/xml; charset=utf-8"}, fault_xml(code, text).decode())

    def fallback(self, req: Request) -> Response | None:
        """The reference WSDL, when the cassette holds none."""
        path, _, query = req.url.partition("?")
        if path.lower().endswith("/service.wsdl") or query.lower().split("&")[0] == "wsdl":
            return Response(200, {"Content-Type": "text/xml; charset=utf-8"}, wsdl_bytes().decode("utf-8"))
        return None


PROFILE = StreamsterProfile()


# ------------------------------------------------------------------------------------ drift check


class WsdlSchema:
    """The WSDL's XML Schema and, per operation, the elements its input and output messages carry."""

    def __init__(self, wsdl: bytes | None = None) -> None:
        root = etree.fromstring(wsdl or wsdl_bytes(), _PARSER)
        schema_el = root.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
        if schema_el is None:
            raise ValueError("the WSDL has no types/schema")
        self.tns = schema_el.get("targetNamespace", "")
        # A standalone schema document: the prefixes its QName attributes use (tns:Order) declared on it.
        nsmap = {k: v for k, v in schema_el.nsmap.items() if k}
        standalone = etree.Element(schema_el.tag, dict(schema_el.attrib), nsmap=nsmap)
        standalone.extend(copy.deepcopy(c) for c in schema_el)
        self.schema = etree.XMLSchema(standalone)
        messages = {
            m.get("name"): [p.get("element", "").split(":")[-1] for p in m.findall(f"{{{WSDL_NS}}}part")]
            for m in root.findall(f"{{{WSDL_NS}}}message")
        }
        self.parts: dict[str, tuple[list[str], list[str]]] = {}
        for op in root.findall(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation"):
            inp = op.find(f"{{{WSDL_NS}}}input").get("message", "").split(":")[-1]
            out = op.find(f"{{{WSDL_NS}}}output").get("message", "").split(":")[-1]
            self.parts[op.get("name", "")] = (messages.get(inp, []), messages.get(out, []))

    def check(self, operation: str | None, text: str, output: bool) -> list[str]:
        """What is wrong with one message (empty: valid against the WSDL)."""
        what = "response" if output else "request"
        body = _body(text)
        if body is None:
            return [f"{what} is not a SOAP 1.1 envelope with a Body"]
        children = [c for c in body if isinstance(c.tag, str)]
        if output and children and etree.QName(children[0]).localname == "Fault":
            fault = children[0]
            missing = [n for n in ("faultcode", "faultstring") if fault.find(n) is None]
            return [f"fault without {', '.join(missing)}"] if missing else []
        if operation not in self.parts:
            return [f"{operation!r} is not an operation of the WSDL"]
        expected = self.parts[operation][1 if output else 0]
        got = [etree.QName(c).localname for c in children]
        problems = []
        if got != expected:
            problems.append(f"{what} body carries {got or 'nothing'}, the WSDL's message has {expected or 'nothing'}")
        for child in children:
            if etree.QName(child).namespace != self.tns:
                problems.append(f"{what} element {child.tag} is not in the API namespace {self.tns}")
                continue
            doc = etree.ElementTree(copy.deepcopy(child))
            if not self.schema.validate(doc):
                for e in self.schema.error_log:
                    problems.append(f"{what} {etree.QName(child).localname}: {e.message}")
        return problems


def _answer(status: int, text: str) -> Answer:
    """A Streamster answer for the drift check: a SOAP fault is a refusal, anything else a success."""
    body = _body(text)
    if body is None:
        return Answer(status, SUCCESS if status == 200 else REFUSAL, summary=f"{status} (not a SOAP envelope)")
    children = [c for c in body if isinstance(c.tag, str)]
    fault = children[0] if children and etree.QName(children[0]).localname == "Fault" else None
    if fault is None:
        return Answer(status, SUCCESS, None, xml_shape(body), xml_tree(body), xml=True, summary=str(status))
    code = (fault.findtext("faultcode") or "").strip()
    words = " ".join((fault.findtext("faultstring") or "").split())
    words = words if len(words) <= 80 else words[:77] + "..."
    summary = f"{status} {code} fault {words!r}"
    return Answer(status, REFUSAL, code, xml_shape(body), xml_tree(body), xml=True, summary=summary)


def _with_ids(body: str, ids: dict[str, str]) -> str:
    """The request body with every recorded ID the emulator answered with another ID replaced by that one."""
    for recorded, emulator in ids.items():
        if recorded in body:
            body = re.sub(rf">(\s*){re.escape(recorded)}(\s*)<", rf">\g<1>{emulator}\g<2><", body)
    return body


def check_cassette(cassette: Cassette, seed: int = 0, scenario: str | None = None) -> Report:
    """Validate every recorded message against the WSDL, then replay the requests against a fresh
    emulator and compare each answer with the recorded one: contract drift apart from state."""
    schema = WsdlSchema()
    report = Report(cassette, f"a fresh emulator (seed {seed}{f', scenario {scenario}' if scenario else ''})")
    ids: dict[str, str] = {}  # recorded ID -> the emulator's ID for the same object
    import requests  # only for a drift check: serving does not need it

    with StreamsterMock(seed=seed, scenario=scenario) as mock, requests.Session() as http:
        for n, i in enumerate(cassette.interactions, 1):
            req = i.request
            item = report.item(n, PROFILE.describe(req), i.line)
            if req.method != "POST":
                continue  # the WSDL itself: compared by its hash in the header
            op = PROFILE.soap_action(req)
            item.contract += schema.check(op, req.body, output=False)
            item.contract += schema.check(op, i.response.body, output=True)
            headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "soapaction")}
            body = _with_ids(req.body, ids).encode("utf-8")
            r = http.post(mock.endpoint_url, data=body, headers=headers, timeout=30)
            compare(item, _answer(i.response.status, i.response.body), _answer(r.status_code, r.text), ids)
    return report


def check_options(parser: argparse.ArgumentParser) -> None:
    """`check-cassette` options: the fresh emulator's seed and scenario."""
    parser.add_argument("--seed", type=int, default=0, help="seed of the fresh emulator (default 0)")
    parser.add_argument("--scenario", help="scenario file of the fresh emulator")


def run_check(cassette: Cassette, args: argparse.Namespace) -> Report:
    """`check-cassette` for the command line."""
    return check_cassette(cassette, seed=args.seed, scenario=args.scenario)
