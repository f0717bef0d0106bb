"""The request journal, one typed record per API call, for both emulators.

A ring bounded twice: in entries (`maxlen`) and in bytes (`max_bytes`, the bodies it keeps). One
body is kept up to `MAX_BODY_BYTES`; a longer one is cut there and its entry says so, so hostile
or huge requests cannot grow an emulator's memory. Assertions on what a bot sent
(`assert_called`, `assert_not_called`) explain a failure with the calls actually seen, nearest
first.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_JOURNAL_SIZE = 10_000
DEFAULT_JOURNAL_BYTES = 32 * 1024 * 1024
MAX_BODY_BYTES = 64 * 1024
ENTRY_OVERHEAD = 512  # what an entry costs besides its bodies, roughly
_EMPTY_BODY = re.compile(r"<(?:[\w-]+:)?Body\s*/>")
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')

# The keys of a recorded mapping that are fields of an entry; any other key goes to its details.
_KNOWN = frozenset({
    "seq", "time", "operation", "route", "request", "response", "status", "fault", "injected",
    "duration_ms", "request_cut", "response_cut", "details", "size", "reason",
})  # fmt: skip

# How a call is picked out: a predicate on the entry, or text its request body or path contains.
Where = Callable[["JournalEntry"], bool] | str | None


def clip(body: str | bytes | None, limit: int = MAX_BODY_BYTES) -> tuple[str | None, bool, int]:
    """(text kept, whether it was cut, its size in UTF-8 bytes); bytes are decoded as UTF-8."""
    if body is None:
        return None, False, 0
    if isinstance(body, (bytes, bytearray)):
        raw = bytes(body)
    elif len(body) <= limit // 4 or (len(body) <= limit and body.isascii()):
        return body, False, len(body) if body.isascii() else len(body.encode("utf-8", "replace"))
    else:
        raw = body.encode("utf-8", "replace")
    if len(raw) <= limit:
        return raw.decode("utf-8", "replace"), False, len(raw)
    # A multi-byte character split at the limit decodes to U+FFFD; that is part of the cut.
    return raw[:limit].decode("utf-8", "replace"), True, limit


@dataclass(frozen=True)
class JournalEntry:
    """One API call as the emulator saw it.

    `operation` is the SOAP operation (Streamster) or the route name (InstaForex), None when the
    request could not be read; `status` is None when an injected fault dropped the connection;
    `fault` is the kind of fault injected (None for a normal answer); `time` is the emulator's
    clock (ISO 8601). `request_cut`/`response_cut` say a body was longer than `MAX_BODY_BYTES`
    and only its start is kept. `reason` says why a call was refused when the answer does not
    (InstaForex answers every refusal "Access denied"; the entry says "token expired").
    `details` holds what one emulator adds (peer, method, path, ip).
    """

    seq: int
    time: str
    operation: str | None
    request: str | None
    response: str | None
    status: int | None
    fault: str | None = None
    duration_ms: float | None = None
    request_cut: bool = False
    response_cut: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    size: int = field(default=0, compare=False, repr=False)

    @property
    def route(self) -> str | None:
        """InstaForex's name for `operation`."""
        return self.operation

    @property
    def injected(self) -> str | None:
        """The former name of `fault`."""
        return self.fault

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as /_mock/journal serves it (`route` and `injected` are aliases)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "operation": self.operation,
            "route": self.operation,
            "status": self.status,
            "injected": self.fault,
            "request": self.request,
            "response": self.response,
            "request_cut": self.request_cut,
            "response_cut": self.response_cut,
            "duration_ms": self.duration_ms,
            "reason": self.reason,
            **self.details,
        }

    # Read as a mapping too (entry["operation"], entry.get("route")), as the journal's dicts were.
    def __getitem__(self, key: str) -> Any:
        data = self.to_dict()
        if key not in data:
            raise KeyError(key)
        return data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value `to_dict()` has under `key`, else `default`."""
        return self.to_dict().get(key, default)

    def matches(self, operation: str | None, where: Where = None) -> bool:
        """Whether this is a call to `operation` (any when None, case-insensitive) that `where` picks."""
        if operation is not None and (self.operation or "").lower() != operation.lower():
            return False
        if where is None:
            return True
        if isinstance(where, str):
            return where in (self.request or "") or where in str(self.details.get("path", ""))
        return bool(where(self))

    def summary(self, width: int = 120) -> str:
        """One line: seq, operation, status, why it was refused, fault, and the start of the request."""
        status = "dropped" if self.status is None else str(self.status)
        fault = f" fault={self.fault}" if self.fault else ""
        why = f" ({self.reason})" if self.reason else ""
        path = self.details.get("path")
        text = f"{self.details.get('method', '')} {path}".strip() if path else _excerpt(self.request or "")
        line = f"#{self.seq} {self.time} {self.operation or '(unreadable)'} -> {status}{why}{fault}: {text}"
        return line if len(line) <= width else line[: width - 1] + "…"


def _excerpt(request: str) -> str:
    """A request body on one line, from its SOAP Body when it has one."""
    if _EMPTY_BODY.search(request[:4000]):
        return "(empty SOAP Body)"
    start, end = request.find("Body>"), request.rfind("Body>")
    text = request[start + 5 : request.rfind("<", 0, end)] if 0 <= start < end else request
    return " ".join(_XMLNS.sub("", text[:2000]).split())[:200]


class Journal:
    """Thread-safe ring of the last `maxlen` calls, holding at most `max_bytes` of bodies."""

    def __init__(self, maxlen: int = DEFAULT_JOURNAL_SIZE, max_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
            raise ValueError(f"journal size must be a whole number >= 1, not {maxlen!r}")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < MAX_BODY_BYTES:
            raise ValueError(f"journal max_bytes must be a whole number >= {MAX_BODY_BYTES}, not {max_bytes!r}")
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque()
        self._maxlen = maxlen
        self.max_bytes = max_bytes
        self.bytes = 0
        self.total = 0

    @property
    def maxlen(self) -> int:
        """How many entries the ring keeps."""
        return self._maxlen

    def record(self, entry: JournalEntry | Mapping[str, Any]) -> JournalEntry:
        """Append one call (an entry, or a mapping with its fields), numbered and with its bodies
        cut to size; the oldest entries go when the ring is full in entries or in bytes."""
        data = entry.__dict__ if isinstance(entry, JournalEntry) else entry
        details = dict(data.get("details") or {})
        details.update({k: v for k, v in data.items() if k not in _KNOWN})
        status, duration, reason = data.get("status"), data.get("duration_ms"), data.get("reason")
        return self.add(
            data.get("operation") or data.get("route"), data.get("request"), data.get("response"),
            None if status is None else int(status), time=str(data.get("time") or ""),
            fault=data.get("fault") or data.get("injected"), duration_ms=None if duration is None else float(duration),
            reason=None if reason is None else str(reason), details=details,
            cut=(bool(data.get("request_cut")), bool(data.get("response_cut"))),
        )  # fmt: skip

    def add(
        self, operation: str | None, request: str | bytes | None, response: str | bytes | None, status: int | None,
        *, time: str = "", fault: str | None = None, duration_ms: float | None = None, reason: str | None = None,
        details: Mapping[str, Any] | None = None, cut: tuple[bool, bool] = (False, False),
    ) -> JournalEntry:  # fmt: skip
        """Append one call given field by field (the call pipeline's way: `record` without the mapping)."""
        request, request_cut, request_size = clip(request)
        response, response_cut, response_size = clip(response)
        fields = {
            "time": time, "operation": operation, "request": request, "response": response, "status": status,
            "fault": fault, "duration_ms": duration_ms, "request_cut": request_cut or cut[0],
            "response_cut": response_cut or cut[1], "details": {} if details is None else details, "reason": reason,
            "size": request_size + response_size + ENTRY_OVERHEAD,
        }  # fmt: skip
        stored = object.__new__(JournalEntry)
        with self._lock:
            self.total += 1
            # Filled in place: the frozen dataclass's __init__ sets each field through object.__setattr__,
            # a tenth of a call's journaling. Every field is given here, as __init__ would set it.
            stored.__dict__.update(fields, seq=self.total)
            self._entries.append(stored)
            self.bytes += stored.size
            while len(self._entries) > self._maxlen or (self.bytes > self.max_bytes and len(self._entries) > 1):
                self.bytes -= self._entries.popleft().size
        return stored

    def entries(self, operation: str | None = None, where: Where = None) -> list[JournalEntry]:
        """The calls kept, oldest first; only those to `operation` (case-insensitive) that `where` picks."""
        with self._lock:
            items = list(self._entries)
        if operation is None and where is None:
            return items
        return [e for e in items if e.matches(operation, where)]

    def last(self, n: int) -> list[JournalEntry]:
        """The newest `n` calls, oldest first."""
        with self._lock:
            return list(self._entries)[-n:] if n > 0 else []

    def clear(self) -> None:
        """Forget every entry (numbering and the total go on)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def reset(self) -> None:
        """Back to the constructor: no entry, numbering from 1 again."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0
            self.total = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    # ----------------------------------------------------------------- assertions

    def assert_called(self, operation: str, times: int | None = None, where: Where = None) -> list[JournalEntry]:
        """The calls to `operation` that `where` picks; AssertionError unless there are `times` of
        them (at least one when None), listing the calls seen, nearest first."""
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
            raise ValueError(f"times must be a whole number >= 0 or None, not {times!r}")
        seen = self.entries()
        hits = [e for e in seen if e.matches(operation, where)]
        if (times is None and hits) or (times is not None and len(hits) == times):
            return hits
        wanted = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
        raise AssertionError(
            f"expected {operation}{_describe(where)} to be called {wanted}, "
            f"it was called {len(hits)} time{'s' if len(hits) != 1 else ''}.\n{_nearest(seen, operation, where)}"
        )

    def assert_not_called(self, operation: str, where: Where = None) -> None:
        """AssertionError if any call to `operation` that `where` picks was made, listing them."""
        hits = [e for e in self.entries() if e.matches(operation, where)]
        if hits:
            raise AssertionError(
                f"expected no call to {operation}{_describe(where)}, there were {len(hits)}.\n"
                f"{_nearest(hits, operation, where)}"
            )


def _describe(where: Where) -> str:
    if where is None:
        return ""
    if isinstance(where, str):
        return f" with {where!r} in its request"
    return f" where {getattr(where, '__name__', 'the predicate')} holds"


def _nearest(seen: list[JournalEntry], operation: str, where: Where, limit: int = 10) -> str:
    """The calls seen, nearest to what was asked first: same operation (those `where` picks first),
    then the most similar operation names; newest first within each."""
    if not seen:
        return "No call was recorded."
    wanted = operation.lower()

    def rank(e: JournalEntry) -> tuple[int, float, int]:
        name = (e.operation or "").lower()
        if name == wanted:
            return (0 if e.matches(None, where) else 1, 0.0, -e.seq)
        return (2, -difflib.SequenceMatcher(None, wanted, name).ratio(), -e.seq)

    ordered = sorted(seen, key=rank)
    lines = [f"  {e.summary()}" for e in ordered[:limit]]
    more = f"\n  ... and {len(ordered) - limit} more" if len(ordered) > limit else ""
    return f"Calls seen ({len(seen)}), nearest first:\n" + "\n".join(lines) + more
