"""API tokens: bound to a login and a kind, expiring on the emulator's clock, unguessable."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("client", "partner", "mobile")
DEFAULT_TTL = 5400.0


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
    """Issued tokens; 32 lowercase hex characters from a CSPRNG, or from `seed` for determinism."""

    def __init__(self, ttl: float = DEFAULT_TTL, seed: int | None = None) -> None:
        if ttl <= 0:
            raise ValueError(f"token TTL must be > 0 seconds, not {ttl!r}")
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tokens: dict[bytes, Token] = {}
        self._seed = seed
        self._rng = random.Random(f"tokens:{seed}") if seed is not None else None

    def reset(self) -> None:
        """Back to the constructor: no token, and a seeded store draws its values from the start again."""
        with self._lock:
            self._tokens.clear()
            self._rng = random.Random(f"tokens:{self._seed}") if self._seed is not None else None

    def issue(self, login: int, kind: str, now: datetime) -> Token:
        """A new token; older tokens of the login stay valid until they expire."""
        if kind not in KINDS:
            raise ValueError(f"token kind must be one of {', '.join(KINDS)}, not {kind!r}")
        with self._lock:
            self._purge(now)
            while True:
                value = f"{self._rng.getrandbits(128):032x}" if self._rng else secrets.token_hex(16)
                if _key(value) not in self._tokens:
                    break
            token = Token(value, login, kind, now, now + timedelta(seconds=self.ttl))
            self._tokens[_key(value)] = token
            return token

    def find(self, value: str, now: datetime) -> Token | None:
        """The live token with this value (compared in constant time), or None."""
        with self._lock:
            token = self._tokens.get(_key(value))
        if token is None or not hmac.compare_digest(token.value.encode(), value.encode("utf-8", "replace")):
            return None
        return token if now < token.expires else None

    def revoke(self, login: int | None = None) -> int:
        """Forget the tokens of `login` (every token when None); how many were revoked."""
        with self._lock:
            doomed = [k for k, t in self._tokens.items() if login is None or t.login == login]
            for k in doomed:
                del self._tokens[k]
            return len(doomed)

    def expire(self, login: int | None = None, now: datetime | None = None) -> int:
        """Make tokens expired now (kept, but refused); how many."""
        when = now or datetime.min
        with self._lock:
            hits = [k for k, t in self._tokens.items() if login is None or t.login == login]
            for k in hits:
                t = self._tokens[k]
                self._tokens[k] = Token(t.value, t.login, t.kind, t.issued, min(t.expires, when))
            return len(hits)

    def live(self, login: int, now: datetime) -> list[Token]:
        """The live tokens of a login."""
        with self._lock:
            return [t for t in self._tokens.values() if t.login == login and now < t.expires]

    def _purge(self, now: datetime) -> None:
        # Tokens long expired are forgotten, so memory stays flat on a long-running emulator.
        horizon = now - timedelta(seconds=self.ttl)
        for k in [k for k, t in self._tokens.items() if t.expires < horizon]:
            del self._tokens[k]
