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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .cassette import Request, Response

if TYPE_CHECKING:
    from .profile import ApiProfile

PLACEHOLDER = "SCRUBBED"
FIRST_FAKE_LOGIN = 90000001
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


class FakeMap:
    """real -> fake for one kind of value, consistent for the life of the map; thread-safe."""

    def __init__(self, make: Callable[[int], str], used: Iterable[str] = ()) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._fake: dict[str, str] = {}
        self._real: dict[str, str] = {}
        self._used = set(used)
        self._n = 0
        self.version = 0  # moves on every new pairing, so answers computed from the map can be cached

    def fake(self, real: str) -> str:
        """The fake for `real`, made on first sight (a value that is already a fake stays itself)."""
        with self._lock:
            if real in self._fake:
                return self._fake[real]
            if real in self._used and real not in self._real:
                return real  # a fake from the cassette, sent back by a client in replay
            while True:
                self._n += 1
                candidate = self._make(self._n)
                if candidate not in self._used:
                    break
            self._fake[real], self._real[candidate] = candidate, real
            self._used.add(candidate)
            self.version += 1
            return candidate

    def bind(self, real: str, fake: str) -> None:
        """Remember that `real` is what the cassette's `fake` stands for (learned in replay)."""
        with self._lock:
            self._fake[real], self._real[fake] = fake, real
            self._used.add(fake)
            self.version += 1

    def known_fake(self, real: str) -> str | None:
        """The fake already bound to `real`, if any."""
        with self._lock:
            return self._fake.get(real)

    def real_of(self, fake: str) -> str | None:
        """The real value a fake was bound to, if any."""
        with self._lock:
            return self._real.get(fake)

    def reals(self) -> list[str]:
        """Every real value seen."""
        with self._lock:
            return list(self._fake)

    def fakes(self) -> list[str]:
        """Every fake handed out or bound."""
        with self._lock:
            return sorted(self._real)


def fake_login(n: int) -> str:
    """90000001, 90000002, ...: eight digits like a real login, in a range kept for fakes."""
    return str(FIRST_FAKE_LOGIN + n - 1)


def fake_token(n: int) -> str:
    """00000000000000000000000000000001, ...: 32 lowercase hex digits, visibly not a real token."""
    return format(n, "032x")


def fake_ip(real: str) -> Callable[[int], str]:
    """Documentation addresses: 192.0.2.N (TEST-NET-1) for IPv4, 2001:db8::N for IPv6."""
    v6 = ":" in real
    return lambda n: f"2001:db8::{n:x}" if v6 else f"192.0.2.{n}" if n < 255 else f"198.51.100.{n - 254}"


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
        body = self._json_text(req.body, request=True)
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
            body = self._json_text(body, request=False)
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
        if pattern is None:
            return url
        path, sep, query = url.partition("?")
        m = pattern.search(path)
        if not m:
            return url
        out, last = [], 0
        for g in range(1, (pattern.groups or 0) + 1):
            if m.group(g) is None:
                continue
            out += [path[last : m.start(g)], self.fake_login(m.group(g))]
            last = m.end(g)
        return "".join(out) + path[last:] + sep + query

    def _json_text(self, text: str, request: bool) -> str:
        if not text.strip() or text.lstrip()[:1] not in "{[":
            return text
        try:
            data = json.loads(text, parse_float=Decimal)
        except ValueError:
            return text
        changed = self._walk(data, request)
        return dumps_like(changed, text) if changed != data else text

    def _walk(self, value: Any, request: bool, key: str = "") -> Any:
        p = self.profile
        if isinstance(value, dict):
            return {k: self._walk(v, request, k.lower()) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, request, key) for v in value]
        if key in p.password_keys and isinstance(value, str) and value:
            if len(value) >= MIN_SECRET_LENGTH:
                self.known.add("password", value)
            return PLACEHOLDER
        if key in p.login_keys and not isinstance(value, bool) and isinstance(value, (int, str)):
            text = str(value).strip()
            if text.isdigit():
                fake = self.fake_login(text)
                return int(fake) if isinstance(value, int) else value.replace(text, fake)
        if key in p.ip_keys and isinstance(value, str) and value:
            return self.fake_ip(value)
        return value

    def _text(self, item: Any) -> Any:
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

        changes: dict[str, Any] = {"headers": {k: clean(v) for k, v in item.headers.items()}}
        if not getattr(item, "binary", False):
            changes["body"] = clean(item.body)
        if isinstance(item, Request):
            changes["url"] = clean(item.url)
        return replace(item, **changes)

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


def dumps_like(data: Any, original: str) -> str:
    """JSON text for `data` (Decimal numbers keep their digits), spaced like `original` was."""
    spaced = bool(re.search(r'"\s*:\s+|,\s+"', original))
    sep_item, sep_key = (", ", ": ") if spaced else (",", ":")

    def enc(v: Any) -> str:
        if isinstance(v, dict):
            return (
                "{" + sep_item.join(f"{json.dumps(k, ensure_ascii=False)}{sep_key}{enc(x)}" for k, x in v.items()) + "}"
            )
        if isinstance(v, list):
            return "[" + sep_item.join(enc(x) for x in v) + "]"
        if isinstance(v, Decimal):
            return str(v)
        return json.dumps(v, ensure_ascii=False)

    return enc(data)
