"""API tokens: bound to a login and a kind, expiring on the emulator's clock, unguessable."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mock_common.parts import ChangeLog, rng_from, rng_state

KINDS = ("client", "partner", "mobile")
DEFAULT_TTL = 5400.0
MAX_LIVE_PER_LOGIN = 100  # issuing more drops the login's oldest token: memory stays flat on a frozen clock


@dataclass(frozen=True)
class Token:
    """One issued token."""

    value: str
    login: int
    kind: str
    issued: datetime
    expires: datetime


def _key(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "replace")).digest()


class TokenStore:
    """Issued tokens; 32 lowercase hex characters from a CSPRNG, or from `seed` for determinism.

    It describes itself as keyed parts (`describe`: `tokens`, its lifetime and generator, and
    `tokens/<login>`, a login's tokens) and logs whose tokens changed (`changed_since`).
    """

    def __init__(self, ttl: float = DEFAULT_TTL, seed: int | None = None) -> None:
        if ttl <= 0:
            raise ValueError(f"token TTL must be > 0 seconds, not {ttl!r}")
        self.ttl = ttl
        self._lock = threading.RLock()
        self._tokens: dict[bytes, Token] = {}
        self._by_login: dict[int, deque[bytes]] = {}  # keys in issue order, oldest first
        self._purged = datetime.min
        self._seed = seed
        self._rng = random.Random(f"tokens:{seed}") if seed is not None else None
        self._changed = ChangeLog()  # logins whose tokens changed
        self._draws = 0  # values drawn from the seeded generator
        self.generation = 0  # a new one when every token is replaced at once (reset, a restored state)

    def reset(self) -> None:
        """Back to the constructor: no token, and a seeded store draws its values from the start again."""
        with self._lock:
            self._tokens.clear()
            self._by_login.clear()
            self._purged = datetime.min
            self._rng = random.Random(f"tokens:{self._seed}") if self._seed is not None else None
            self._renewed()

    def replace(self, tokens: dict[bytes, Token], rng: random.Random | None) -> None:
        """Hold exactly these tokens and draw from `rng` (a restored state file)."""
        with self._lock:
            self._tokens = dict(tokens)
            self._rng = rng
            self._by_login = {}
            for key, token in sorted(tokens.items(), key=lambda kv: kv[1].issued):
                self._by_login.setdefault(token.login, deque()).append(key)
            self._purged = datetime.min
            self._renewed()

    def _renewed(self) -> None:
        self._changed, self._draws = ChangeLog(), 0
        self.generation += 1

    # ------------------------------------------------------------------ keyed parts (snapshot, state file)

    def _settings(self) -> dict[str, Any]:
        return {"ttl": self.ttl, "rng": rng_state(self._rng) if self._rng is not None else None}

    def _login_part(self, login: int) -> list[list[Any]]:
        return [
            [t.value, t.kind, t.issued.isoformat(), t.expires.isoformat()]
            for t in (self._tokens[k] for k in self._by_login.get(login, ()))
        ]

    def describe(self) -> dict[str, Any]:
        """The tokens as keyed parts: `tokens` (lifetime, generator) and `tokens/<login>` (oldest first)."""
        with self._lock:
            parts: dict[str, Any] = {"tokens": self._settings()}
            parts.update({f"tokens/{login}": self._login_part(login) for login in self._by_login})
            return parts

    def changed_since(self, mark: tuple[int, int] | None) -> tuple[dict[str, Any], list[str], tuple[int, int]]:
        """(parts changed, parts gone, mark now) since `mark` (change number, values drawn; None: every part)."""
        with self._lock:
            if mark is None:
                return self.describe(), [], (self._changed.count, self._draws)
            count, draws = mark
            parts: dict[str, Any] = {"tokens": self._settings()} if draws != self._draws else {}
            gone = []
            for login in self._changed.since(count):
                if self._by_login.get(login):
                    parts[f"tokens/{login}"] = self._login_part(login)
                else:
                    gone.append(f"tokens/{login}")
            return parts, gone, (self._changed.count, self._draws)

    @staticmethod
    def from_parts(parts: dict[str, Any]) -> tuple[float, dict[bytes, Token], random.Random | None]:
        """(lifetime, tokens by key, generator) `describe`'s parts hold (KeyError, TypeError, ValueError if not)."""
        settings = parts["tokens"]
        tokens = {}
        for key, held in parts.items():
            if key.startswith("tokens/"):
                login = int(key.split("/", 1)[1])
                for value, kind, issued, expires in held:
                    token = Token(str(value), login, str(kind), datetime.fromisoformat(issued),
                                  datetime.fromisoformat(expires))  # fmt: skip
                    tokens[_key(token.value)] = token
        rng = rng_from(settings["rng"]) if settings["rng"] is not None else None
        return float(settings["ttl"]), tokens, rng

    def issue(self, login: int, kind: str, now: datetime) -> Token:
        """A new token; older tokens of the login stay valid until they expire."""
        if kind not in KINDS:
            raise ValueError(f"token kind must be one of {', '.join(KINDS)}, not {kind!r}")
        with self._lock:
            self._purge(now)
            while True:
                if self._rng is not None:
                    value = f"{self._rng.getrandbits(128):032x}"
                    self._draws += 1
                else:
                    value = secrets.token_hex(16)
                if _key(value) not in self._tokens:
                    break
            token = Token(value, login, kind, now, now + timedelta(seconds=self.ttl))
            self._tokens[_key(value)] = token
            keys = self._by_login.setdefault(login, deque())
            keys.append(_key(value))
            while len(keys) > MAX_LIVE_PER_LOGIN:
                self._tokens.pop(keys.popleft(), None)
            self._changed.touch(login)
            return token

    def find(self, value: str, now: datetime, expired: bool = False) -> Token | None:
        """The live token with this value (compared in constant time), or None; with `expired`,
        an expired one not yet dropped too (to tell why it is refused)."""
        with self._lock:
            token = self._tokens.get(_key(value))
        if token is None or not hmac.compare_digest(token.value.encode(), value.encode("utf-8", "replace")):
            return None
        return token if expired or now < token.expires else None

    def revoke(self, login: int | None = None) -> int:
        """Forget the tokens of `login` (every token when None); how many were revoked."""
        with self._lock:
            doomed = [k for k, t in self._tokens.items() if login is None or t.login == login]
            for k in doomed:
                self._changed.touch(self._tokens.pop(k).login)
            if login is None:
                self._by_login.clear()
            else:
                self._by_login.pop(login, None)
            return len(doomed)

    def expire(self, login: int | None = None, now: datetime | None = None) -> int:
        """Make tokens expired now (refused, and dropped at the next issue); how many."""
        when = now or datetime.min
        with self._lock:
            hits = [k for k, t in self._tokens.items() if login is None or t.login == login]
            for k in hits:
                t = self._tokens[k]
                self._tokens[k] = Token(t.value, t.login, t.kind, t.issued, min(t.expires, when))
                self._changed.touch(t.login)
            self._purged = datetime.min  # the next issue drops them
            return len(hits)

    def live(self, login: int, now: datetime) -> list[Token]:
        """The live tokens of a login."""
        with self._lock:
            return [t for t in self._tokens.values() if t.login == login and now < t.expires]

    def __len__(self) -> int:
        """How many tokens are kept (live, or expired and not yet dropped)."""
        with self._lock:
            return len(self._tokens)

    def _purge(self, now: datetime) -> None:
        # Expired tokens are dropped, so memory stays flat on a long-running emulator. The scan runs
        # once per clock instant (and when a token was expired by hand), not on every issue.
        expired = [k for k, t in self._tokens.items() if t.expires <= now] if now != self._purged else []
        self._purged = now
        for k in expired:
            self._changed.touch(self._tokens.pop(k).login)
        if expired:
            for login in list(self._by_login):
                keys = deque(k for k in self._by_login[login] if k in self._tokens)
                if keys:
                    self._by_login[login] = keys
                else:
                    del self._by_login[login]
