"""Emulator state kept in an SQLite file (`--state`): saved before each reply, restored on start.

The file holds three tables: `meta` (format, version, api), `state`, one row per part of the
emulator's state (key, JSON text, SHA-256 of the text; see mock_common.parts), and `points`, one
row per point of a point series (series, time, rank among points of the same time, JSON text,
SHA-256). A state owner's tracker reports which parts changed since its last write (`Changes`);
a commit writes only those, in one transaction, so the file is never half written: a new price
appends points, a moved clock rewrites a few small rows.

Durability: WAL with `synchronous=NORMAL`. A commit is in the operating system's hands (the WAL
file) before the reply goes out, so a process killed at any moment, SIGKILL included, loses
nothing it acknowledged; a power cut or an OS crash may lose the last commits (not the file's
consistency). That is the guarantee a test double needs, at a fraction of an fsync per reply.

A file that is not ours, or is damaged, is refused and left exactly as it was, its `-wal` and
`-shm` included: it is inspected read-only first (`immutable=1`, which neither locks, writes nor
merges its write-ahead log; a database whose tables are still all in its log is inspected as a
private copy), and opened for writing only once it is known to be ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from .parts import POINTS, Changes, Span
from .values import json_default

log = logging.getLogger(__name__)

FORMAT = "broker-mocks-state"
VERSION = 2  # 2: point series in their own table; 1 (read, upgraded on the first write): a row per series
SQLITE_HEADER = b"SQLite format 3\x00"
MAX_INSPECTED_LOG = 256 * 1024 * 1024  # bytes of a foreign-looking file and its -wal copied to be inspected
CHECKPOINT_PAGES = 10_000  # the write-ahead log is merged into the file at this size (about 40 MB)
RENEW_SECONDS = 0.5
_ONE_STATEMENT_ROWS = 100  # rows a commit writes in one INSERT (SQLite allows 999 parameters at least)  # how often a running emulator saves what changed without a request (a running clock)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS points (series TEXT NOT NULL, t REAL NOT NULL, n INTEGER NOT NULL, "
    "value TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (series, t, n)) WITHOUT ROWID",
)


class StateFileError(Exception):
    """The state file cannot be used (foreign, damaged, in use) or written; the message says which."""


def dumps(value: Any) -> str:
    """Compact, stable JSON (Decimal, date and datetime as text), as every row is stored."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_default)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Encoded(str):
    """A part already encoded as JSON text (trackers keep it to compare the next time)."""


def encoded(text: str) -> str:
    """Mark `text` as a part's JSON text, stored as is."""
    return _Encoded(text)


def _text(value: Any) -> str:
    return str(value) if isinstance(value, _Encoded) else dumps(value)


class StateFile:
    """One state file, opened and checked; `rows` holds its saved parts (None for a new file).

    Refuses, with a StateFileError naming the file and the reason, anything that is not a
    broker-mocks state file of this `api`, or is damaged, or is held by another running
    emulator; such a file is left exactly as it was. `version` is the format version the file
    was written in (a version 1 file is rewritten in this version by the first write).
    """

    def __init__(self, path: str | Path, api: str) -> None:
        self.path = Path(path)
        self.api = api
        self.rows: dict[str, Any] | None = None
        self.version = VERSION
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._check_header()
        self._inspect()
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=0.2)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {str(self.path)!r} cannot be opened: {exc}") from None
        try:
            # Exclusive: the file belongs to this emulator while it runs (a second one is refused).
            self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._validate()
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit reaches the OS before the reply (a killed process loses nothing), not the
            # disk (a power cut may lose the last ones); see the module's docstring.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint (the log merged into the file) costs two fsyncs whatever its size, inside the commit
            # that triggers it: merged every CHECKPOINT_PAGES pages (not SQLite's 1,000), the few it costs
            # stay out of the 99th percentile of replies.
            self._conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
            if self.rows is None:
                self._write(Changes(full=True))  # the schema and meta now, so the lock is held from here on
        except BaseException:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ telling ours from theirs

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

    def _inspect(self) -> None:
        """Refuse a file that is not ours before opening it for writing (opening it so, and closing
        it, would merge its write-ahead log into it)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            if not _has_log(self.path):
                return  # a new (or empty) file: ours to set up
            tables, meta = self._inspect_copy()
        else:
            tables, meta = self._read_only(self.path, immutable=True)
            if not tables and _has_log(self.path):
                tables, meta = self._inspect_copy()  # every table is still in the log
        if tables:
            self._check_meta(tables, meta)

    def _read_only(self, path: Path, immutable: bool) -> tuple[set[str], dict[str, str]]:
        """The tables and the meta rows of the database at `path`: read as immutable (nothing locked,
        written or merged), or opened as it is (a private copy)."""
        try:
            if immutable:
                conn = sqlite3.connect(path.resolve().as_uri() + "?immutable=1", uri=True, isolation_level=None)
            else:
                conn = sqlite3.connect(str(path), isolation_level=None)
        except sqlite3.Error as exc:
            raise self._refuse(f"cannot be read: {exc}") from None
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged or not a database ({exc})") from None
        finally:
            conn.close()
        return tables, {str(k): str(v) for k, v in meta.items()}

    def _inspect_copy(self) -> tuple[set[str], dict[str, str]]:
        """Tables and meta of a copy of the file and its write-ahead log (SQLite merges the log into the copy)."""
        log_path = Path(f"{self.path}-wal")
        size = log_path.stat().st_size + (self.path.stat().st_size if self.path.exists() else 0)
        if size > MAX_INSPECTED_LOG:
            raise self._refuse(
                f"keeps its tables in a write-ahead log of {size // 2**20} MiB ({str(log_path)!r}), over the "
                f"{MAX_INSPECTED_LOG // 2**20} MiB this emulator copies to tell whose file it is without changing it; "
                "open it with the application that wrote it to merge the log first"
            )
        with tempfile.TemporaryDirectory(prefix="broker-mocks-inspect-") as tmp:
            copy = Path(tmp) / "inspected.db"
            if self.path.exists():
                shutil.copyfile(self.path, copy)
            else:
                copy.touch()
            shutil.copyfile(log_path, f"{copy}-wal")
            return self._read_only(copy, immutable=False)

    def _check_meta(self, tables: set[str], meta: dict[str, str]) -> int:
        if "meta" not in tables or "state" not in tables:
            raise self._refuse(f"belongs to another application (its tables: {', '.join(sorted(tables))})")
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
        if version >= 2 and "points" not in tables:
            raise self._refuse("is damaged: its points table is missing")
        return version

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
        try:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in names else {}
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged ({exc})") from None
        self.version = self._check_meta(names, {str(k): str(v) for k, v in meta.items()})
        self.rows = self._load(names)
        if not self.rows:
            raise self._refuse("is damaged: it holds no state")

    def _load(self, tables: set[str]) -> dict[str, Any]:
        try:
            rows = self._conn.execute("SELECT key, value, digest FROM state").fetchall()
            points = (
                self._conn.execute("SELECT series, t, value, digest FROM points ORDER BY series, t, n").fetchall()
                if "points" in tables
                else []
            )
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged ({exc})") from None
        loaded: dict[str, Any] = {}
        for key, value, digest in rows:
            loaded[key] = self._decode(value, digest, f"row {key!r}")
        for series, t, value, digest in points:
            point = self._decode(value, digest, f"point {t!r} of {series!r}")
            if not isinstance(point, list) or not point or point[0] != t:
                raise self._refuse(f"is damaged: point {t!r} of {series!r} does not hold its time")
            loaded.setdefault(series, []).append(point)
        return loaded

    def read(self) -> dict[str, Any]:
        """The parts the file holds now (its point series as lists of points)."""
        with self._lock:
            return self._load({"state", "points"})

    def _decode(self, value: Any, digest: Any, what: str) -> Any:
        if not isinstance(value, str) or _digest(value) != digest:
            raise self._refuse(f"is damaged: {what} does not match its checksum")
        try:
            return json.loads(value)
        except ValueError:
            raise self._refuse(f"is damaged: {what} is not valid JSON") from None

    # ------------------------------------------------------------------ writing

    def write(self, changes: Changes) -> None:
        """Store `changes` in one transaction (a full one replaces everything stored)."""
        try:
            with self._lock:
                self._write(changes)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {str(self.path)!r} could not be written: {exc}") from None

    def _write(self, changes: Changes) -> None:
        parts, spans = dict(changes.parts), list(changes.spans)
        for key in [k for k in parts if k.startswith(POINTS)]:  # a series given whole, as a part
            spans.append(_whole(key, parts.pop(key)))
        rows = []
        for key, value in parts.items():
            text = _text(value)
            rows.append((key, text, _digest(text)))
        conn = self._conn
        if not (changes.full or changes.removed or spans) and 0 < len(rows) <= _ONE_STATEMENT_ROWS:
            # The common commit (a few rows): one statement is one transaction, and one call into SQLite.
            placeholders = ",".join(["(?, ?, ?)"] * len(rows))
            conn.execute(
                f"INSERT OR REPLACE INTO state (key, value, digest) VALUES {placeholders}", [x for r in rows for x in r]
            )
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if changes.full:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("format", FORMAT), ("version", str(VERSION)), ("api", self.api)],
                )
                conn.execute("DELETE FROM state")
                conn.execute("DELETE FROM points")
                self.version = VERSION
            conn.executemany("INSERT OR REPLACE INTO state (key, value, digest) VALUES (?, ?, ?)", rows)
            if changes.removed:
                conn.executemany("DELETE FROM state WHERE key = ?", [(k,) for k in changes.removed])
            for span in spans:
                if not changes.full:
                    conn.execute(
                        "DELETE FROM points WHERE series = ? AND t >= ? AND t < ?", (span.key, span.start, span.end)
                    )
                conn.executemany(
                    "INSERT INTO points (series, t, n, value, digest) VALUES (?, ?, ?, ?, ?)", _point_rows(span)
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Merge the write-ahead log into the file and close it."""
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # the data is safe in the WAL either way
                log.warning("state file %s: checkpoint at close failed: %s", self.path, exc)
            self._conn.close()


def _has_log(path: Path) -> bool:
    wal = Path(f"{path}-wal")
    return wal.is_file() and wal.stat().st_size > 0


def _whole(key: str, points: Any) -> Span:
    return Span(key, float("-inf"), float("inf"), list(points))


def _point_rows(span: Span) -> Iterable[tuple[str, float, int, str, str]]:
    """The rows of a span's points: equal times ranked 0, 1, ... (a span holds every point of its times)."""
    last, rank = None, 0
    for point in span.points:
        t = float(point[0])
        rank = rank + 1 if t == last else 0
        last = t
        text = _point_text(point)
        yield span.key, t, rank, text, _digest(text)


def _point_text(point: list[Any]) -> str:
    # Most points are [time, "price", count]: formatted directly, as json.dumps would, at a fraction of its cost.
    if len(point) == 3 and type(point[0]) is float and type(point[1]) is str and type(point[2]) is int:
        t, bid = point[0], point[1]
        if math.isfinite(t) and bid.isascii() and bid.isprintable() and '"' not in bid and "\\" not in bid:
            return f'[{t!r},"{bid}",{point[2]}]'
    return dumps(point)


class StateSource(Protocol):
    """An emulator's state seen as parts: what changed since the changes it last saw accepted."""

    def changes(self, final: bool = False) -> Changes:
        """The changes to write now, taken as one consistent cut (`final`: the last, the emulator stopping)."""


class Persister:
    """Writes a source's changes to a state file; `commit()` after each change, before the reply.

    Concurrent callers share one write (group commit). Every `renew` seconds a background thread
    commits too, so what changes without a request (a running clock) is saved as it goes.
    """

    def __init__(self, file: StateFile, source: StateSource, renew: float | None = RENEW_SECONDS) -> None:
        self.file = file
        self.source = source
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._entered = 0
        self._written = 0
        self._closed = False
        self.commits = 0  # write transactions (for benchmarks and tests)
        self._stopping = threading.Event()
        self._renewer: threading.Thread | None = None
        if renew is not None:
            self._renewer = threading.Thread(target=self._renew, args=(renew,), name="state-file", daemon=True)
            self._renewer.start()

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
            changes = self.source.changes()
            if changes:
                self.file.write(changes)
                self.commits += 1
            changes.accepted()
            self._written = cut

    def _renew(self, every: float) -> None:
        while not self._stopping.wait(every):
            try:
                self.commit()
            except StateFileError as exc:
                log.error("%s", exc)
            except Exception:  # the thread must outlive any one failure: the next request retries
                log.exception("state file %s: saving in the background failed", self.file.path)

    def close(self) -> None:
        """Write what is left and close the file (a failure to write is logged: the last commit stands)."""
        self._stopping.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                changes = self.source.changes(final=True)
                if changes:
                    self.file.write(changes)
                changes.accepted()
            except StateFileError as exc:
                log.error("%s", exc)
            finally:
                self.file.close()
