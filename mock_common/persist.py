"""Emulator state kept in an SQLite file (`--state FILE`): durable before each reply, restored on start.

The file holds two tables: `meta` (format, version, api) and `state`, one row per piece of the
emulator's state (key, JSON text, SHA-256 of the text). An emulator-specific `StateSource` turns
its state into rows and back and reports which rows changed since the last write, so a commit
writes only what changed, in one transaction: the file is never half written. `Persister.commit`
runs after every accepted change and before its reply goes out; concurrent callers share one
write (group commit). A file that is not ours, or is damaged, is refused before anything is
written to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from .values import json_default

log = logging.getLogger(__name__)

FORMAT = "broker-mocks-state"
VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, digest TEXT NOT NULL)",
)


class StateFileError(Exception):
    """The state file cannot be used (foreign, damaged, in use) or written; the message says which."""


def dumps(value: Any) -> str:
    """Compact, stable JSON (Decimal, date and datetime as text), as every row is stored."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_default)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class StateFile:
    """One state file, opened and checked; `rows` is its saved state (None for a new file).

    Refuses, with a StateFileError naming the file and the reason, anything that is not a
    broker-mocks state file of this `api`, or is damaged, or is held by another running
    emulator; such a file is left exactly as it was.
    """

    def __init__(self, path: str | Path, api: str) -> None:
        self.path = Path(path)
        self.api = api
        self.rows: dict[str, Any] | None = None
        self._check_header()
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=0.2)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {str(self.path)!r} cannot be opened: {exc}") from None
        try:
            # Exclusive: the file belongs to this emulator while it runs (a second one is refused).
            self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._validate()
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: every commit reaches the disk before the reply, not only the OS's cache.
            self._conn.execute("PRAGMA synchronous=FULL")
            if self.rows is None:
                self._write({}, replace_all=True)  # the schema and meta now, so the lock is held from here on
        except BaseException:
            self._conn.close()
            raise

    def _check_header(self) -> None:
        if self.path.is_dir():
            raise StateFileError(f"state file {str(self.path)!r} is a directory")
        if not self.path.exists():
            if not self.path.parent.is_dir():
                raise StateFileError(
                    f"state file {str(self.path)!r}: directory {str(self.path.parent)!r} does not exist"
                )
            return
        try:
            with self.path.open("rb") as f:
                head = f.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StateFileError(f"state file {str(self.path)!r} cannot be read: {exc.strerror}") from None
        if head and head != SQLITE_HEADER:
            raise StateFileError(
                f"{str(self.path)!r} is not a broker-mocks state file (not an SQLite database); it is left untouched"
            )

    def _refuse(self, why: str) -> StateFileError:
        return StateFileError(f"state file {str(self.path)!r} {why}; it is left untouched")

    def _validate(self) -> None:
        try:
            names = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not names:
                return  # a new (or empty) database: ours to set up
            check = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise StateFileError(
                    f"state file {str(self.path)!r} is in use by another running emulator (it is locked)"
                ) from None
            raise self._refuse(f"cannot be read: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged or not a database ({exc})") from None
        if check != "ok":
            raise self._refuse(f"is damaged: SQLite's integrity check says {check!r}")
        if "meta" not in names or "state" not in names:
            raise self._refuse(f"belongs to another application (its tables: {', '.join(sorted(names))})")
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            rows = self._conn.execute("SELECT key, value, digest FROM state").fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged ({exc})") from None
        if meta.get("format") != FORMAT:
            raise self._refuse(f"belongs to another application (format {meta.get('format')!r})")
        try:
            version = int(meta.get("version", ""))
        except ValueError:
            raise self._refuse(f"has an unreadable version {meta.get('version')!r}") from None
        if version > VERSION:
            raise self._refuse(
                f"was written by a newer broker-mocks (format version {version}; this one reads {VERSION})"
            )
        if meta.get("api") != self.api:
            raise self._refuse(f"holds the state of the {meta.get('api')} emulator, not of the {self.api} emulator")
        loaded: dict[str, Any] = {}
        for key, value, digest in rows:
            if not isinstance(value, str) or _digest(value) != digest:
                raise self._refuse(f"is damaged: row {key!r} does not match its checksum")
            try:
                loaded[key] = json.loads(value)
            except ValueError:
                raise self._refuse(f"is damaged: row {key!r} is not valid JSON") from None
        if not loaded:
            raise self._refuse("is damaged: it holds no state")
        self.rows = loaded

    def write(self, rows: Mapping[str, Any], replace_all: bool = False) -> None:
        """Store `rows` (key -> JSON-ready value) in one transaction; replace_all drops every other row."""
        try:
            self._write(rows, replace_all)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {str(self.path)!r} could not be written: {exc}") from None

    def _write(self, rows: Mapping[str, Any], replace_all: bool) -> None:
        encoded = []
        for key, value in rows.items():
            text = value if isinstance(value, _Encoded) else dumps(value)
            encoded.append((key, str(text), _digest(str(text))))
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if replace_all:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("format", FORMAT), ("version", str(VERSION)), ("api", self.api)],
                )
                conn.execute("DELETE FROM state")
            conn.executemany("INSERT OR REPLACE INTO state (key, value, digest) VALUES (?, ?, ?)", encoded)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Checkpoint the write-ahead log into the file and close it."""
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # the data is safe in the WAL either way
            log.warning("state file %s: checkpoint at close failed: %s", self.path, exc)
        self._conn.close()


class _Encoded(str):
    """A row value already encoded as JSON text (sources keep it to compare the next time)."""


def encoded(text: str) -> str:
    """Mark `text` as a row's JSON text, stored as is."""
    return _Encoded(text)


class StateSource(Protocol):
    """An emulator's state seen as rows: what changed since the last accepted write."""

    def changes(self) -> tuple[bool, dict[str, Any], Any]:
        """(replace_all, rows to write, memo for `accepted`); taken as one consistent cut."""

    def accepted(self, memo: Any) -> None:
        """The rows of `changes` are on disk: remember them as written."""


class Persister:
    """Writes a source's changes to a state file; `commit()` after each change, before the reply."""

    def __init__(self, file: StateFile, source: StateSource) -> None:
        self.file = file
        self.source = source
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._entered = 0
        self._written = 0
        self._closed = False
        self.commits = 0  # write transactions (for benchmarks and tests)

    def commit(self) -> None:
        """Make every change made before this call durable; raises StateFileError if the disk refuses."""
        with self._count_lock:
            self._entered += 1
            mine = self._entered
        with self._lock:
            if self._closed:
                log.warning(
                    "state file %s is closed (the emulator was stopped): this change is not saved", self.file.path
                )
                return
            if mine <= self._written:
                return  # a write that started after this caller's change already holds it
            with self._count_lock:
                cut = self._entered
            replace_all, rows, memo = self.source.changes()
            if replace_all or rows:
                self.file.write(rows, replace_all)
                self.commits += 1
            self.source.accepted(memo)
            self._written = cut

    def close(self) -> None:
        """Write what is left and close the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                replace_all, rows, memo = self.source.changes()
                if replace_all or rows:
                    self.file.write(rows, replace_all)
                self.source.accepted(memo)
            finally:
                self.file.close()
