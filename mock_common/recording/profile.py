"""What the shared machinery needs to know about one API: the per-API parts subclass `ApiProfile`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape, unescape

from lxml import etree

from ..faults import FaultRule, Reply
from ..masking import dumps_like, is_form
from .cassette import Cassette, Request, Response
from .fakes import FakeMap

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_ADDRESS = re.compile(r'(<(?:[\w.-]+:)?address\b[^>]*\blocation\s*=\s*")([^"]*)(")')


@dataclass(frozen=True)
class Login:
    """A feature value that is an account login: a recorded fake matches the real login it stands for."""

    value: str


def is_wsdl(resp: Response) -> bool:
    """Whether a response is a WSDL document."""
    head = resp.body[:2000] if not resp.binary else ""
    return "<" in head and WSDL_NS in head and "definitions" in head


def rewrite_soap_address(wsdl: str, base: str) -> str:
    """Point every soap:address (SOAP 1.1 and 1.2) at `base`, keeping each location's own path (escaped
    for the attribute: a base made from a request never adds markup)."""

    def swap(m: re.Match[str]) -> str:
        path = urlsplit(unescape(m.group(2))).path or "/"
        return m.group(1) + escape(base.rstrip("/") + path, {'"': "&quot;"}) + m.group(3)

    return _ADDRESS.sub(swap, wsdl)


def flatten_xml(element: etree._Element, prefix: str, out: dict[str, Any]) -> None:
    """Element paths by local name (namespace prefixes ignored), repeated siblings indexed, text stripped."""
    counts: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        key = f"{prefix}/{name}"
        if counts[name] > 1:
            key += f"[{seen.get(name, 0)}]"
            seen[name] = seen.get(name, 0) + 1
        for attr, value in sorted(child.attrib.items()):
            out[f"{key}@{etree.QName(attr).localname}"] = value
        if len(child):
            flatten_xml(child, key, out)
        else:
            out[key] = (child.text or "").strip()


def flatten_json(value: Any, prefix: str, out: dict[str, Any], login_keys: frozenset[str], key: str = "") -> None:
    """JSON paths (keys lower-cased: the APIs read them case-insensitively) to leaf values."""
    if isinstance(value, dict):
        if not value:
            out[prefix] = {}
        for k, v in value.items():
            flatten_json(v, f"{prefix}.{k.lower()}", out, login_keys, k.lower())
    elif isinstance(value, list):
        if not value:
            out[prefix] = []
        for n, v in enumerate(value):
            flatten_json(v, f"{prefix}[{n}]", out, login_keys, key)
    elif key in login_keys and not isinstance(value, bool) and str(value).strip().isdigit():
        out[prefix] = Login(str(value).strip())
    else:
        out[prefix] = value


class ApiProfile:
    """The per-API knowledge: what to scrub, how requests are matched, how errors look."""

    name = "api"
    contract_kind = "none"
    default_upstream = ""  # the real API's base URL
    entry = ""  # what a client opens first, relative to the base URL (the WSDL for SOAP)
    login_keys: frozenset[str] = frozenset()  # JSON keys holding account logins (numbers or lists of them)
    ip_keys: frozenset[str] = frozenset()  # response JSON keys holding IP addresses
    token_headers: frozenset[str] = frozenset()  # request headers (lower case) carrying a token
    login_path: re.Pattern[str] | None = None  # path groups that are logins
    operations: tuple[str, ...] = ()  # the API's operation or route names: journal entries and fault targets
    fault_replies: Mapping[str, Callable[[FaultRule], Reply]] = {}  # fault kind -> the emulator's reply for it

    # ------------------------------------------------------------------ header facts

    def contract_hash(self) -> str:
        """sha256 of the contract recordings are checked against."""
        return ""

    def header(self, cassette: Cassette) -> None:
        """Fill in the header's contract."""
        cassette.contract = {"kind": self.contract_kind, "sha256": self.contract_hash()}

    def is_token_response(self, req: Request, resp: Response) -> bool:
        """Whether `resp` answers a token request (its body is a token)."""
        return False

    def soap_action(self, req: Request) -> str | None:
        """The SOAP operation a request names, if this is a SOAP API."""
        return None

    def operation(self, req: Request) -> str | None:
        """The operation (or route) a request calls, as the emulator's journal names it; None for none."""
        return self.soap_action(req)

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        """The fault kinds a recorder or replay server injects: the emulator's replies, delays and drops."""
        return (*self.fault_replies, "delay", "drop")

    def fault_params(self, kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A fault kind the emulator's control plane takes as another (kind, params): as it takes it."""
        return kind, params

    # ------------------------------------------------------------------ matching

    def features(self, req: Request) -> tuple[str, dict[str, Any]]:
        """(primary key, comparable features): requests match when both agree."""
        path, _, query = req.url.partition("?")
        path = urlsplit(path).path if "://" in path else path
        feats: dict[str, Any] = {}
        for k, v in sorted(parse_qsl(query, keep_blank_values=True)):
            feats[f"query.{k}"] = v
        return f"{req.method} {path}", feats

    def feature_headers(self, req: Request) -> tuple[str, ...]:
        """The header values `features` reads (so features can be cached by them)."""
        return ()

    def json_features(self, body: str, feats: dict[str, Any]) -> None:
        """Add a JSON or form-encoded body's leaves (or the stripped text when it is neither)."""
        if not body.strip():
            return
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError:
            if not is_form(body):
                feats["body"] = body.strip()
                return
            # A form-encoded body: its fields, as a JSON object's would be (a scrubbed password matches any).
            data = dict(parse_qsl(body.strip(), keep_blank_values=True))
        flatten_json(data, "body", feats, self.login_keys)

    def is_api(self, target: str) -> bool:
        """Whether a request target belongs to the API (recorded), not to an emulator's control plane or
        dashboard (`/_mock/...`) or a browser's `/favicon.ico`."""
        path = unquote(target.partition("?")[0]).lower().rstrip("/")
        return not (path == "/_mock" or path.startswith("/_mock/") or path == "/favicon.ico")

    def describe(self, req: Request) -> str:
        """A short name for a request in messages."""
        return f"{req.method} {req.url}"

    def check_request(self, req: Request, tokens: set[str]) -> str | None:
        """Why a request cannot be answered from this cassette at all (None: it may be)."""
        return None

    def cassette_tokens(self, cassette: Cassette) -> set[str]:
        """The tokens the cassette issued or used (honoured in replay)."""
        return set()

    # ------------------------------------------------------------------ answering

    def miss_response(self, text: str) -> Response:
        """The answer to a request no recorded interaction matches."""
        return Response(404, {"Content-Type": "application/json; charset=utf-8"}, json.dumps({"Message": text}))

    def error_response(self, status: int, text: str) -> Response:
        """An error the recorder or replay server gives itself (400, 403, 413, 502), in the API's format."""
        body = json.dumps({"Message": text})
        return Response(status, {"Content-Type": "application/json; charset=utf-8"}, body)

    def fallback(self, req: Request) -> Response | None:
        """An answer for a request the cassette does not hold but the API always serves (e.g. its WSDL)."""
        return None

    def unscrub(self, resp: Response, logins: FakeMap) -> Response:
        """The replayed answer with fake logins turned back into the logins the client used."""
        if not self.login_keys or resp.binary or resp.body.lstrip()[:1] not in "{[":
            return resp
        try:
            data = json.loads(resp.body, parse_float=Decimal)
        except ValueError:
            return resp

        def walk(v: Any, key: str = "") -> Any:
            if isinstance(v, dict):
                return {k: walk(x, k.lower()) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x, key) for x in v]
            if key in self.login_keys and not isinstance(v, bool) and isinstance(v, (int, str)):
                real = logins.real_of(str(v).strip())
                if real is not None:
                    return int(real) if isinstance(v, int) else real
            return v

        changed = walk(data)
        return resp if changed == data else replace(resp, body=dumps_like(changed, resp.body))


def profile_for(api: str) -> ApiProfile:
    """The profile of an API by name (`streamster`, `instaforex`), imported from its emulator's package."""
    import importlib

    if api not in ("streamster", "instaforex"):
        raise ValueError(f"api must be streamster or instaforex, not {api!r}")
    return importlib.import_module(f"mock_{api}.recording").PROFILE  # type: ignore[no-any-return]
