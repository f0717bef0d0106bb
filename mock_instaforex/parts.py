"""The InstaForex emulator as keyed parts (mock_common.parts), the tracker of their changes, and the
snapshot's `state` mapping made from them (one encoder for the snapshot routes and the state file).

The parts: `account/<login>`, `partner/<login>`, `signals` (the store's); `tokens` (lifetime and
generator) and `tokens/<login>` (a login's live tokens: they keep working after a restart; the
token store's); `clock` (mode, speed, time, and the time `reset` goes back to) and `source` (the
accounts `reset` reloads: a file's content, fixture data, or a generator's arguments), the
controller's. Store and token store log which logins their methods changed, so a token request
writes that login's account and tokens, not every account.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from mock_common.clock import Clock
from mock_common.parts import Changes, clock_part
from mock_common.persist import dumps, encoded

from .store import Store
from .tokens import TokenStore


class EmulatorView(NamedTuple):
    """What the controller's parts are made of: references, taken under the store's lock."""

    store: Store
    tokens: TokenStore
    clock: Clock
    source: Any  # a path, fixture data, or ("generate", seed, n)
    initial: Any  # the accounts data `reset` reloads (the source read once)
    start: datetime  # where `reset` puts a virtual clock


def source_part(source: Any, initial: Any) -> Any:
    """What `reset` reloads, as JSON-ready data (a file's content as read at start, not its path)."""
    if isinstance(source, tuple):
        return list(source)  # ("generate", seed, n): the generator's arguments
    if isinstance(source, (str, Path)):
        return {"file": str(source), "data": initial}
    return {"data": initial}


def source_from(data: Any) -> Any:
    """The controller's source from `source_part`'s output."""
    if isinstance(data, list):
        return tuple(data)
    return copy.deepcopy(data["data"])


def _clock(v: EmulatorView, final: bool = False, saved: bool = False) -> tuple[dict[str, Any], datetime | None]:
    part, lease = clock_part(v.clock, final) if saved else (v.clock.describe(), None)
    part["start"] = v.start.isoformat()
    return part, lease


def describe(v: EmulatorView) -> dict[str, Any]:
    """The emulator's whole state as keyed parts (JSON-ready)."""
    return {
        **v.store.describe(), **v.tokens.describe(), "clock": _clock(v)[0], "source": source_part(v.source, v.initial),
    }  # fmt: skip


def snapshot_state(parts: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's `state` mapping (version 1: one `tokens` entry holding every token) the parts describe."""
    state = {k: v for k, v in parts.items() if not k.startswith("tokens/") and k != "source"}
    tokens = []
    for key, held in parts.items():
        if key.startswith("tokens/"):
            login = int(key.split("/", 1)[1])
            tokens += [[value, login, kind, issued, expires] for value, kind, issued, expires in held]
    tokens.sort(key=lambda t: (t[3], t[0]))  # issue order
    state["tokens"] = {**parts["tokens"], "tokens": tokens}
    clock = parts["clock"]
    kept = ("mode", "start", "offset") if clock.get("mode") == "real" else ("mode", "start", "now")
    state["clock"] = {k: v for k, v in clock.items() if k in kept}
    return state


def parts_from_snapshot_state(state: dict[str, Any]) -> dict[str, Any]:
    """The parts a snapshot's `state` mapping (or a version 1 state file's rows) describes."""
    parts = {k: v for k, v in state.items() if k != "tokens"}
    saved = state["tokens"]
    parts["tokens"] = {"ttl": saved["ttl"], "rng": saved["rng"]}
    for value, login, kind, issued, expires in saved["tokens"]:
        parts.setdefault(f"tokens/{int(login)}", []).append([value, kind, issued, expires])
    return parts


class Tracker:
    """What changed in the emulator since the changes this tracker last had accepted (a state file's view)."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._tokens: TokenStore | None = None
        self._generation = -1
        self._store_count = 0
        self._token_mark = (0, 0)
        self._texts: dict[str, str] = {}  # clock and source, as last written
        self._source: tuple[Any, Any, datetime] | None = None

    def changes(self, v: EmulatorView, final: bool = False) -> Changes:
        """The parts changed since the last accepted changes (all of them after a reset or a new store)."""
        clock, lease = _clock(v, final, saved=True)
        if v.store is not self._store or v.tokens is not self._tokens or v.tokens.generation != self._generation:
            parts, store_count = v.store.changed_since(None)
            token_parts, _, token_mark = v.tokens.changed_since(None)
            parts.update(token_parts)
            parts["clock"], parts["source"] = clock, source_part(v.source, v.initial)
            texts = {"clock": dumps(clock), "source": dumps(parts["source"])}
            source = (v.source, v.initial, v.start)

            def accept_full() -> None:
                self._store, self._tokens, self._generation = v.store, v.tokens, v.tokens.generation
                self._store_count, self._token_mark, self._texts, self._source = store_count, token_mark, texts, source
                v.clock.hold(lease)

            return Changes(full=True, parts=parts, on_accept=accept_full)
        parts, store_count = v.store.changed_since(self._store_count)
        token_parts, removed, token_mark = v.tokens.changed_since(self._token_mark)
        parts.update(token_parts)
        texts: dict[str, str] = {}
        candidates = {"clock": clock}
        source = (v.source, v.initial, v.start)
        if self._source is None or any(a is not b for a, b in zip(source, self._source, strict=True)):
            candidates["source"] = source_part(v.source, v.initial)
        for key, value in candidates.items():
            text = dumps(value)
            if self._texts.get(key) != text:
                parts[key] = encoded(text)
                texts[key] = text

        def accept() -> None:
            self._store_count, self._token_mark, self._source = store_count, token_mark, source
            self._texts.update(texts)
            v.clock.hold(lease)

        return Changes(full=False, parts=parts, removed=removed, on_accept=accept)
