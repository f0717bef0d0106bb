"""Replay: finding the recorded answer for a request, in order, with near-miss reports."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from .cassette import Cassette, Interaction, Request
from .fakes import FakeMap, fake_login
from .profile import ApiProfile, Login, is_wsdl
from .scrub import PLACEHOLDER

log = logging.getLogger(__name__)

EXHAUSTED = ("repeat", "error")
_MISSING = object()


@dataclass
class Hit:
    """A recorded interaction that answers the request."""

    index: int
    interaction: Interaction


@dataclass
class Miss:
    """No recorded interaction answers the request: why, and the closest one."""

    request: str
    reason: str
    closest: str | None = None
    differences: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One paragraph a person can act on."""
        text = f"No recorded interaction matches {self.request}: {self.reason}."
        if self.closest:
            text += f" Closest recorded request: {self.closest}"
            if self.differences:
                text += " (" + "; ".join(self.differences[:5]) + (" ..." if len(self.differences) > 5 else "") + ")"
            text += "."
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "request": self.request,
            "reason": self.reason,
            "closest": self.closest,
            "differences": self.differences,
        }


def _show(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    if isinstance(value, Login):
        return value.value
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


class ReplayEngine:
    """Answers requests from a cassette: identical requests get their recorded answers in order;
    when those run out the last repeats (`exhausted="repeat"`) or it is a miss (`"error"`)."""

    def __init__(
        self, cassette: Cassette, profile: ApiProfile, exhausted: str = "repeat", logins: FakeMap | None = None
    ) -> None:
        if exhausted not in EXHAUSTED:
            raise ValueError(f"exhausted must be one of {', '.join(EXHAUSTED)}, not {exhausted!r}")
        self.cassette, self.profile, self.exhausted = cassette, profile, exhausted
        self.logins = logins if logins is not None else FakeMap(fake_login, cassette.logins)
        self.fakes = set(cassette.logins)
        self.tokens = profile.cassette_tokens(cassette)
        self._lock = threading.Lock()
        self._entries: list[tuple[str, dict[str, Any], Interaction, bool]] = []
        self._by_key: dict[str, list[int]] = {}
        self._used: list[bool] = []
        self.misses: list[Miss] = []
        self.log_misses = True
        self._feature_cache: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, dict[str, Any]]] = {}
        for interaction in cassette.interactions:
            self._index(interaction)

    def _index(self, interaction: Interaction) -> None:
        key, feats = self.profile.features(interaction.request)
        static = interaction.request.method == "GET" and is_wsdl(interaction.response)
        self._entries.append((key, feats, interaction, static))
        self._by_key.setdefault(key, []).append(len(self._entries) - 1)
        self._used.append(False)

    def add(self, interaction: Interaction) -> None:
        """A newly recorded interaction (new_episodes): from now on it replays too, as already used."""
        with self._lock:
            self._index(interaction)
            self._used[-1] = True
            self.tokens |= self.profile.cassette_tokens(Cassette(api=self.cassette.api, interactions=[interaction]))

    def __len__(self) -> int:
        return len(self._entries)

    def _compare(self, rec: dict[str, Any], inc: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        diffs: list[str] = []
        binds: dict[str, str] = {}
        for key in list(rec) + [k for k in inc if k not in rec]:
            r, i = rec.get(key, _MISSING), inc.get(key, _MISSING)
            if r == i or (r == PLACEHOLDER and i is not _MISSING):
                continue
            if isinstance(r, Login) and isinstance(i, Login):
                bound = binds.get(i.value) or self.logins.known_fake(i.value)
                if bound == r.value:
                    continue
                if bound is None and r.value in self.fakes and self.logins.real_of(r.value) is None:
                    if r.value not in binds.values():
                        binds[i.value] = r.value
                        continue
            diffs.append(f"{key}: recorded {_show(r)}, got {_show(i)}")
        return diffs, binds

    def find(self, req: Request) -> Hit | Miss:
        """The interaction that answers `req`, or a Miss (also logged and kept in `misses`)."""
        key, feats = self._features(req)
        with self._lock:
            refusal = self.profile.check_request(req, self.tokens)
            last_used: tuple[int, dict[str, str]] | None = None
            if refusal is None:
                for n in self._by_key.get(key, ()):
                    diffs, binds = self._compare(self._entries[n][1], feats)
                    if diffs:
                        continue
                    static = self._entries[n][3]
                    if self._used[n] and not static:
                        last_used = (n, binds)
                        continue
                    return self._take(n, binds, static)
                if last_used is not None and self.exhausted == "repeat":
                    return self._take(*last_used, static=True)
            miss = self._miss(req, key, feats, refusal, last_used is not None)
            self.misses.append(miss)
        if self.log_misses:
            log.warning("replay miss: %s", miss.message())
        return miss

    def _features(self, req: Request) -> tuple[str, dict[str, Any]]:
        # A bot repeats the same few requests: their features are worked out once (a bounded cache).
        cache_key = (req.method, req.url, req.body, self.profile.feature_headers(req))
        found = self._feature_cache.get(cache_key)
        if found is None:
            found = self.profile.features(req)
            if len(self._feature_cache) >= 1024:
                self._feature_cache.clear()
            self._feature_cache[cache_key] = found
        return found

    def _take(self, n: int, binds: dict[str, str], static: bool) -> Hit:
        for real, fake in binds.items():
            self.logins.bind(real, fake)
        if not static:
            self._used[n] = True
        return Hit(n, self._entries[n][2])

    def _miss(self, req: Request, key: str, feats: dict[str, Any], refusal: str | None, exhausted: bool) -> Miss:
        described = self.profile.describe(req)
        if refusal is not None:
            reason = refusal
        elif exhausted:
            reason = "every recorded answer to it has been replayed (replay with exhausted=repeat to repeat the last)"
        else:
            reason = "nothing like it was recorded"
        best: tuple[tuple[int, float], int, list[str]] | None = None
        for n, (k, rec, _, _) in enumerate(self._entries):
            if k == key:
                diffs = self._compare(rec, feats)[0]
            else:
                diffs = [f"request: recorded {k}, got {key}"]
            score = (0, len(diffs)) if k == key else (1, -SequenceMatcher(None, k, key).ratio())
            if best is None or score < best[0]:
                best = (score, n, diffs)
        if best is None:
            return Miss(described, reason + " (the cassette is empty)")
        n = best[1]
        closest = f"#{n + 1} {self.profile.describe(self._entries[n][2].request)}"
        line = self._entries[n][2].line
        if line:
            closest += f" (line {line})"
        return Miss(described, reason, closest, best[2] if not exhausted or refusal else [])

    def unused(self) -> list[int]:
        """Indexes of recorded interactions never replayed."""
        with self._lock:
            return [n for n, used in enumerate(self._used) if not used and not self._entries[n][3]]
