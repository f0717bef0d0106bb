"""A bounded request journal: a ring, so a long-running emulator keeps flat memory."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

DEFAULT_JOURNAL_SIZE = 10_000


class Journal:
    """Thread-safe ring of the last `maxlen` request records (plain dicts)."""

    def __init__(self, maxlen: int = DEFAULT_JOURNAL_SIZE) -> None:
        if maxlen < 1:
            raise ValueError(f"journal size must be >= 1, not {maxlen!r}")
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.total = 0

    @property
    def maxlen(self) -> int:
        """How many records the ring keeps."""
        return self._entries.maxlen or 0

    def record(self, entry: dict[str, Any]) -> None:
        """Append one record, dropping the oldest when full."""
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(self, operation: str | None = None) -> list[dict[str, Any]]:
        """A copy of the records, oldest first, optionally only one operation's."""
        with self._lock:
            items = list(self._entries)
        if operation is not None:
            items = [e for e in items if str(e.get("operation", "")).lower() == operation.lower()]
        return items

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries())
