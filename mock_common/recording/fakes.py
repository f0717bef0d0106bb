"""Stable fakes for real values: each real login, token or address gets one fake for the life of a map."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

FIRST_FAKE_LOGIN = 90000001


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
