"""Scrubbing secrets out of recorded interactions, in both directions, and checking that none survived.

Passwords become `SCRUBBED`; tokens, account logins and IP addresses become stable fakes (the same
real value always gets the same fake within a cassette), so a replay still lines up: the token a
token request answered is the one the next request's `passkey` carries. Every real value replaced
is remembered, and `check` refuses a cassette text in which one of them still appears.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, overload

from ..masking import is_secret_field, may_hold_secret, rewrite_fields, rewrite_form
from .cassette import Request, Response
from .fakes import FakeMap, fake_ip, fake_login, fake_token
from .profile import ApiProfile

PLACEHOLDER = "SCRUBBED"
MIN_SECRET_LENGTH = 4  # shorter passwords are still scrubbed, but searching for them would match anything
# Never recorded: they describe the connection, not the exchange (and some carry addresses).
DROPPED_HEADERS = frozenset({
    "host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
    "proxy-connection", "accept-encoding", "content-encoding", "date", "server", "x-forwarded-for",
    "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "forwarded", "via",
})  # fmt: skip
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class SecretLeakError(ValueError):
    """A known secret survived scrubbing; the message names its kind and where, never the value."""


@dataclass
class Secrets:
    """The real values a scrubber replaced, by kind (never written anywhere)."""

    values: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, value: str) -> None:
        """Remember one real value."""
        if value and value != PLACEHOLDER:
            with self.lock:
                self.values.setdefault(kind, set()).add(value)

    def items(self) -> list[tuple[str, str]]:
        """(kind, value) pairs."""
        with self.lock:
            return [(k, v) for k, vs in self.values.items() for v in vs]


class Scrubber:
    """Scrubs interactions for one API profile; holds the fake maps a whole cassette shares."""

    def __init__(
        self,
        profile: ApiProfile,
        patterns: Iterable[str] = (),
        secrets: Iterable[str] = (),
        used_logins: Iterable[str] = (),
        used_tokens: Iterable[str] = (),
    ) -> None:
        self.profile = profile
        self.logins = FakeMap(fake_login, used_logins)
        self.tokens = FakeMap(fake_token, used_tokens)
        self._ips: dict[int, FakeMap] = {4: FakeMap(fake_ip("0.0.0.0")), 6: FakeMap(fake_ip("::"))}
        try:
            self.patterns = [re.compile(p) for p in patterns]
        except re.error as exc:
            raise ValueError(f"scrub pattern {exc.pattern!r} is not a regular expression: {exc}") from None
        self.known = Secrets()
        self.literals = [s for s in secrets if s]
        for s in self.literals:
            self.known.add("given secret", s)

    # ------------------------------------------------------------------ the two directions

    def request(self, req: Request) -> Request:
        """The request as it may be written: secrets replaced, connection headers dropped."""
        headers: dict[str, str] = {}
        for name, value in req.headers.items():
            low = name.lower()
            if low in DROPPED_HEADERS:
                continue
            if low in self.profile.token_headers:
                value = self._token_text(value)
            elif low in SECRET_HEADERS:
                self.known.add(f"{name} header", value)
                value = PLACEHOLDER
            headers[name] = value
        url = self._url(req.url)
        body = self._fields(req.body)
        return self._text(replace(req, url=url, headers=headers, body=body))

    def response(self, req: Request, resp: Response) -> Response:
        """The response as it may be written."""
        headers: dict[str, str] = {}
        for name, value in resp.headers.items():
            low = name.lower()
            if low in DROPPED_HEADERS:
                continue
            if low in SECRET_HEADERS:
                self.known.add(f"{name} header", value)
                value = PLACEHOLDER
            headers[name] = value
        body = resp.body
        if not resp.binary:
            if self.profile.is_token_response(req, resp):
                body = self._token_body(body)
            body = self._fields(body)
        return self._text(replace(resp, headers=headers, body=body))

    # ------------------------------------------------------------------ pieces

    def fake_login(self, real: str) -> str:
        """The fake login for a real one (remembered as a secret unless it is a fake itself)."""
        fake = self.logins.fake(real)
        if fake != real:
            self.known.add("login", real)
        return fake

    def fake_ip(self, real: str) -> str:
        """A documentation address for a real one (loopback stays as it is: it says nothing)."""
        try:
            addr = ipaddress.ip_address(real.strip())
        except ValueError:
            self.known.add("IP address", real)
            return PLACEHOLDER
        if addr.is_loopback or str(addr) in self._ips[addr.version].fakes():
            return real
        self.known.add("IP address", real)
        return self._ips[addr.version].fake(str(addr))

    def fake_token(self, real: str) -> str:
        """The fake token for a real one."""
        fake = self.tokens.fake(real)
        if fake != real:
            self.known.add("token", real)
        return fake

    def _token_text(self, value: str) -> str:
        # The passkey is sent as the raw token body, quotes and all: keep the quotes, swap the inside.
        m = re.fullmatch(r'(\s*"?)([^"]*?)("?\s*)', value)
        assert m is not None
        return m.group(1) + (self.fake_token(m.group(2)) if m.group(2) else "") + m.group(3)

    def _token_body(self, body: str) -> str:
        try:
            value = json.loads(body)
        except ValueError:
            return body
        if isinstance(value, str) and value and value != "Access denied":
            return json.dumps(self.fake_token(value))
        return body

    def _url(self, url: str) -> str:
        pattern = self.profile.login_path
        path, sep, query = url.partition("?")
        m = pattern.search(path) if pattern is not None else None
        if pattern is None or not m:
            return path + sep + (rewrite_form(query, self._field) if query else query)
        out, last = [], 0
        for g in range(1, (pattern.groups or 0) + 1):
            if m.group(g) is None:
                continue
            out += [path[last : m.start(g)], self.fake_login(m.group(g))]
            last = m.end(g)
        return "".join(out) + path[last:] + sep + (rewrite_form(query, self._field) if query else query)

    def _fields(self, text: str) -> str:
        """A body (JSON, form-encoded or XML) with its secret fields scrubbed and its logins and addresses faked."""
        p = self.profile
        if not text.strip() or (not (p.login_keys or p.ip_keys) and not may_hold_secret(text)):
            return text
        return rewrite_fields(text, self._field)

    def _field(self, name: str, value: Any) -> Any:
        p, key = self.profile, name.lower()
        if is_secret_field(name):
            if value is None or value == "" or isinstance(value, bool):
                return value
            if isinstance(value, (str, int, Decimal)) and len(str(value)) >= MIN_SECRET_LENGTH:
                self.known.add("password", str(value))
            return PLACEHOLDER
        if key in p.login_keys and not isinstance(value, bool) and isinstance(value, (int, str)):
            text = str(value).strip()
            if text.isdigit():
                fake = self.fake_login(text)
                return int(fake) if isinstance(value, int) else value.replace(text, fake)
        if key in p.ip_keys and isinstance(value, str) and value:
            return self.fake_ip(value)
        return value

    @overload
    def _text(self, item: Request) -> Request: ...
    @overload
    def _text(self, item: Response) -> Response: ...
    def _text(self, item: Request | Response) -> Request | Response:
        """Known real tokens anywhere, given secrets and user patterns: replaced in every text field."""
        tokens = [t for t in self.tokens.reals() if self.tokens.known_fake(t) != t]
        if not (tokens or self.literals or self.patterns):
            return item

        def clean(text: str) -> str:
            for t in tokens:
                if t in text:
                    text = text.replace(t, self.tokens.known_fake(t) or PLACEHOLDER)
            for s in self.literals:
                text = text.replace(s, PLACEHOLDER)
            for pat in self.patterns:
                text = pat.sub(PLACEHOLDER, text)
            return text

        headers = {k: clean(v) for k, v in item.headers.items()}
        body = item.body if getattr(item, "binary", False) else clean(item.body)
        if isinstance(item, Request):
            return replace(item, headers=headers, body=body, url=clean(item.url))
        return replace(item, headers=headers, body=body)

    # ------------------------------------------------------------------ the check

    def check(self, text: str) -> list[str]:
        """The kinds of known secrets still in `text` (empty when it is clean)."""
        found = []
        for kind, value in self.known.items():
            if len(value) < MIN_SECRET_LENGTH and kind != "login":
                continue
            if kind in ("login", "IP address"):
                hit = re.search(rf"(?<![\w.:]){re.escape(value)}(?![\w:]|\.\d)", text) is not None
            else:
                hit = value in text
            if hit:
                found.append(kind)
        return sorted(set(found))

    def ensure_clean(self, text: str, where: str) -> None:
        """Raise `SecretLeakError` when a known secret survives in `text`."""
        kinds = self.check(text)
        if kinds:
            raise SecretLeakError(
                f"{where}: a known secret survived scrubbing ({', '.join(kinds)}); nothing was written. "
                "Add a --scrub PATTERN that covers it."
            )
