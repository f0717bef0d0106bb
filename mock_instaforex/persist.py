"""The InstaForex emulator's state as rows of a state file (`--state`): accounts, tokens, clock.

One row per account and per partner (a token request changes one login's history), one for the
signals, the live tokens, the clock and the source `reset` goes back to; a commit writes the rows
whose JSON changed. Tokens keep their values and expiry, so a bot's token still works after a
restart. This module reads the token store's private fields under its lock: it is the
emulator's own persistence, kept apart from the API's rules.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_common.clock import ClockMode, utc_now
from mock_common.files import read_data_file
from mock_common.persist import StateFile, StateFileError, dumps, encoded

from .errors import StoreError
from .store import Store
from .tokens import Token, _key

if TYPE_CHECKING:  # the controller uses this module; this one only reads the controller
    from .control import Controller

API = "instaforex"


class DamagedStateError(StoreError):
    """Saved state that lacks a part or has one of the wrong shape."""


def source_data(source: Any) -> Any:
    """What `reset` reloads, as JSON-ready data (a file's content, not its path)."""
    if isinstance(source, tuple):
        return list(source)  # ("generate", seed, n)
    if isinstance(source, (str, Path)):
        return {"file": str(source), "data": read_data_file(source, "accounts file", StoreError) or {}}
    return {"data": source}


def source_from(data: Any) -> Any:
    """The controller's source from `source_data`'s output."""
    if isinstance(data, list):
        return tuple(data)
    return data["data"]


def state_rows(c: Controller, source: str | None = None) -> dict[str, str]:
    """The emulator's state as rows of JSON text: accounts, partners, signals, tokens, clock and
    the reset source (`source`, when its JSON is known already)."""
    service, tokens = c.service, c.service.tokens
    store = service.store
    with store.lock, tokens._lock:
        data = store.to_data()
        rows = {f"account/{a['login']}": dumps(a) for a in data["accounts"]}
        rows.update({f"partner/{p['login']}": dumps(p) for p in data["partners"]})
        rows["signals"] = dumps(data["signals"])
        rng = tokens._rng.getstate() if tokens._rng is not None else None
        rows["tokens"] = dumps({
            "ttl": tokens.ttl,
            "rng": [rng[0], list(rng[1]), rng[2]] if rng is not None else None,
            "tokens": [[t.value, t.login, t.kind, t.issued, t.expires] for t in tokens._tokens.values()],
        })  # fmt: skip
        clock = service.clock
        state: dict[str, Any] = {"mode": clock.mode, "start": c._start}
        if clock.mode == "virtual":
            state["now"] = clock.now()
        else:  # real time moves on its own: keep only the clock's offset from it
            state["offset"] = round((clock.now() - utc_now()).total_seconds(), 3)
        rows["clock"] = dumps(state)
        rows["source"] = source if source is not None else dumps(source_data(c._source))
        return rows


class InstaForexState:
    """The `StateSource` of one emulator: its rows, and which changed since the last write."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self._last: dict[str, str] = {}
        self._source: tuple[Any, str] | None = None  # (the source object, its JSON)

    def _rows(self) -> dict[str, str]:
        c = self.controller
        known = self._source[1] if self._source is not None and self._source[0] is c._source else None
        rows = state_rows(c, known)
        self._source = (c._source, rows["source"])
        return rows

    def changes(self) -> tuple[bool, dict[str, Any], Any]:
        """The rows that differ from the last write (all of them the first time)."""
        rows = self._rows()
        full = not self._last or any(k not in rows for k in self._last)  # a login gone: rewrite the whole file
        changed = rows if full else {k: v for k, v in rows.items() if self._last.get(k) != v}
        return full, {k: encoded(v) for k, v in changed.items()}, rows

    def accepted(self, memo: Any) -> None:
        """Remember what the last write stored."""
        self._last = memo


def saved_clock(rows: dict[str, Any]) -> ClockMode:
    """The clock mode a state file was saved with."""
    try:
        return rows["clock"]["mode"]  # type: ignore[no-any-return]
    except (KeyError, TypeError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


def restore(controller: Controller, rows: dict[str, Any]) -> None:
    """Put the emulator in the saved state: accounts, tokens (still valid), clock, reset source."""
    try:
        restore_rows(controller, rows)
    except DamagedStateError as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc}") from None
    except StoreError as exc:
        raise StateFileError(f"the state file's accounts are damaged: {exc}") from None


def restore_rows(controller: Controller, rows: dict[str, Any], with_source: bool = True) -> None:
    """Put the emulator in the state of `state_rows` (parsed): accounts, tokens, clock, and (with
    `with_source`) what reset() goes back to. StoreError names what is wrong; nothing changes then."""
    service, tokens = controller.service, controller.service.tokens
    try:
        clock = rows["clock"]
        if "now" in clock and service.clock.mode == "virtual":
            now = datetime.fromisoformat(clock["now"])
        else:  # a real clock is now, plus the offset it had been advanced by
            now = utc_now() + timedelta(seconds=float(clock.get("offset", 0.0)))
        data = {
            "accounts": [v for k, v in sorted(rows.items()) if k.startswith("account/")],
            "partners": [v for k, v in sorted(rows.items()) if k.startswith("partner/")],
            "signals": rows["signals"],
        }
        data["accounts"].sort(key=lambda a: int(a["login"]))
        data["partners"].sort(key=lambda p: int(p["login"]))
        store = Store.from_data(data, now)
        saved = rows["tokens"]
        issued = {
            _key(v): Token(v, int(login), kind, datetime.fromisoformat(i), datetime.fromisoformat(e))
            for v, login, kind, i, e in saved["tokens"]
        }
        rng = None
        if saved["rng"] is not None:
            rng = random.Random()
            rng.setstate((saved["rng"][0], tuple(saved["rng"][1]), saved["rng"][2]))
        if with_source:
            source = source_from(rows["source"])
            initial = controller._read(source)
            start = datetime.fromisoformat(clock["start"])
    except StoreError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise DamagedStateError(f"{exc!r}") from None
    service.clock.set(now)
    service.store = store
    tokens.replace(issued, rng)
    if with_source:
        controller._source, controller._initial = source, initial
        controller._start = start


def open_state(path: Any, clock: ClockMode | None) -> tuple[StateFile, ClockMode, dict[str, Any] | None]:
    """Open a state file: (file, clock mode, saved rows or None for a new file)."""
    file = StateFile(path, API)
    if file.rows is None:
        return file, clock or "virtual", None
    try:
        return file, clock or saved_clock(file.rows), file.rows
    except BaseException:
        file.close()
        raise
