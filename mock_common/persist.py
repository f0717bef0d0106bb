"""Emulator state kept in an SQLite file (`--state`): saved before each reply, restored on start.

The file holds three tables: `meta` (format, version, api), `state`, one row per part of the
emulator's state (key, JSON text, SHA-256 of the text; see mock_common.parts), and `points`, one
row per point of a point series (series, time, rank among points of the same time, JSON text,
SHA-256). A state owner's tracker reports which parts changed since its last write (`Changes`);
a commit writes only those, in one transaction, so the file is never half written: a new price
appends points, a moved clock rewrites a few small rows.

Durability: a commit is first appended to the file's change log (`FILE-changes`, one line of
JSON per commit with its CRC-32) by a plain write() before the reply goes out; a background thread
folds the log into the database once no commit has come for FOLD_SECONDS, or at once when
FOLD_BYTES wait (one transaction for many commits, WAL with `synchronous=NORMAL`), and empties it.
So a burst of requests pays for appending only, and the fold (the larger part of the cost)
follows it; under load that never pauses, a fold comes every FOLD_BYTES of log. A process killed
at any moment, SIGKILL included, thus loses nothing it acknowledged: the next start folds what the
log still holds (a line cut short by the kill is dropped: its commit was never acknowledged). A power cut or an OS crash may lose the last
commits, never the database's consistency. That is the guarantee a test double needs; appending
costs a fraction of an SQLite transaction per reply, and an fsync per reply (what a power cut would
take) more than the rest of the request.

A file that is not ours, or is damaged, is refused and left exactly as it was, its `-wal` and
`-shm` included: it is inspected read-only first (`immutable=1`, which neither locks, writes nor
merges its write-ahead log; a database whose tables are still all in its log is inspected as a
private copy), and opened for writing only once it is known to be ours.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any, Protocol

import orjson

from .parts import POINTS, Changes, Span
from .values import json_default

log = logging.getLogger(__name__)

FORMAT = "broker-mocks-state"
VERSION = 2  # 2: point series in their own table; 1 (read, upgraded on the first write): a row per series
SQLITE_HEADER = b"SQLite format 3\x00"
MAX_INSPECTED_LOG = 256 * 1024 * 1024  # bytes of a foreign-looking file and its -wal copied to be inspected
CHECKPOINT_PAGES = 10_000  # the write-ahead log is merged into the file at this size (about 40 MB)
RENEW_SECONDS = 0.5  # how often a running emulator saves what changed without a request (a running clock)
_ONE_STATEMENT_ROWS = 100  # rows a commit writes in one INSERT (SQLite allows 999 parameters at least)
_FOLD_SLICE = 30  # rows a fold writes in one INSERT, between which it lets the requests run
FOLD_SECONDS = 0.05  # the change log is folded into the database once no commit came for this long
FOLD_BYTES = 4 * 2**20  # the log is folded at once when this much waits
MAX_LOG_BYTES = 64 * 2**20  # over this, commits wait while the log is folded and emptied
MAX_REPLAYED_LOG = 256 * 2**20  # a change log larger than this is refused at start (not ours, or runaway)
LOG_SUFFIX = "-changes"
LOG_MAGIC = b"broker-mocks-changes 1 "
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS points (series TEXT NOT NULL, t REAL NOT NULL, n INTEGER NOT NULL, "
    "value TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (series, t, n)) WITHOUT ROWID",
)


class StateFileError(Exception):
    """The state file cannot be used (foreign, damaged, in use) or written; the message says which."""


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=json_default)  # one, not one a call


def dumps(value: Any) -> str:
    """Compact, stable JSON (Decimal, date and datetime as text), as every row is stored."""
    return _ENCODER.encode(value)


def flat_dumps(fields: dict[str, Any]) -> str:
    """`dumps(fields)`, byte for byte, for a record's flat fields (text, whole numbers, booleans,
    None, Decimal, date, datetime; no floats), at about a fifth of its cost: the commit encodes every
    order, position and trade it saves before the reply goes out. orjson writes the JSON; Decimal,
    date and datetime are given the text `json_default` gives them in `dumps`. What orjson refuses (a lone
    surrogate, a whole number over 64 bits) goes to `dumps`. No floats: orjson writes a non-finite
    one as null, and formats some exponents otherwise (tests/test_state_log.py checks the rest)."""
    try:
        return orjson.dumps(fields, default=_flat_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        return dumps(fields)


def _flat_default(value: Any) -> Any:
    t = type(value)  # the usual types first, by identity: this runs four times a record
    if t is Decimal:
        return str(value)
    if t is datetime or t is date:
        return value.isoformat()
    return json_default(value)


def _digest(text: str) -> str:
    return sha256(text.encode("utf-8")).hexdigest()


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

    def __init__(self, path: str | Path, api: str, fold_every: float | None = FOLD_SECONDS) -> None:
        self.path = Path(path)
        self.api = api
        self.rows: dict[str, Any] | None = None
        self.version = VERSION
        self.log_path = Path(f"{self.path}{LOG_SUFFIX}")
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._append = threading.Lock()  # the change log: its descriptor, size and the records not folded
        self._pending: list[_Record] = []
        self._pending_bytes = 0
        self._appended_at = 0.0  # time.monotonic() of the last commit appended to the log
        self._fd: int | None = None
        self._size = 0
        self._head = 0  # the log's header length: an empty log is this long
        self._wake = threading.Event()
        self._stopping = False
        self._folder: threading.Thread | None = None
        self._check_header()
        self._inspect()
        existed = self.path.exists()
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=0.2)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {str(self.path)!r} cannot be opened: {exc}") from None
        try:
            # Exclusive: the file belongs to this emulator while it runs (a second one is refused).
            self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._validate()
            replayed = self._read_log()  # refused here (a log not this file's, or damaged) changes nothing
            if self.rows is not None and not self.rows and not replayed:
                raise self._refuse("is damaged: it holds no state")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a fold reaches the OS, not the disk (a power cut may lose the last ones); see the
            # module's docstring.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint (the log merged into the file) costs two fsyncs whatever its size, inside the fold
            # that triggers it: merged every CHECKPOINT_PAGES pages (not SQLite's 1,000).
            self._conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
            if self.rows is None:
                self._transaction([_Record.of(Changes(full=True))])  # the schema and meta now: the lock is held
            ident = self._identity()
            if replayed:  # a killed emulator's last commits: into the file before anything reads it
                self._transaction(replayed)
                self.rows = self._load({"state", "points"})
                log.info("state file %s: %d commits folded in from %s", self.path, len(replayed), self.log_path)
            if self.rows is not None and not self.rows:
                raise self._refuse("is damaged: its change log holds no state either")
            self._open_log(ident)
        except BaseException:
            self._conn.close()
            if not existed and self.path.exists() and self.path.stat().st_size == 0:
                self.path.unlink()  # refused before anything was written: no empty file left behind
            raise
        if fold_every is not None:
            self._folder = threading.Thread(target=self._folding, args=(fold_every,), name="state-fold", daemon=True)
            self._folder.start()

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
        self.rows = self._load(names)  # empty: damaged, unless its change log holds the state (see __init__)

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
        """The parts the file holds now (its point series as lists of points), the change log folded in."""
        self.fold()
        with self._lock:
            return self._load({"state", "points"})

    def _decode(self, value: Any, digest: Any, what: str) -> Any:
        if not isinstance(value, str) or _digest(value) != digest:
            raise self._refuse(f"is damaged: {what} does not match its checksum")
        try:
            return json.loads(value)
        except ValueError:
            raise self._refuse(f"is damaged: {what} is not valid JSON") from None

    # ------------------------------------------------------------------ the change log

    def _identity(self) -> str:
        """This database's ID (meta `id`), given now to a file written before there was one: the change
        log names it, so a log is never folded into another state file."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()
        if row is not None:
            return str(row[0])
        ident = uuid.uuid4().hex
        self._conn.execute("INSERT INTO meta (key, value) VALUES ('id', ?)", (ident,))
        return ident

    def _read_log(self) -> list[_Record]:
        """The commits a killed emulator left in the change log (none after a clean stop), checked
        before anything is written: a log of another state file, or damaged before its last line,
        is refused with both files left as they were."""
        try:
            size = self.log_path.stat().st_size
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StateFileError(f"change log {str(self.log_path)!r} cannot be read: {exc.strerror}") from None
        if size == 0:
            return []
        where = f"state file {str(self.path)!r}: its change log {str(self.log_path)!r}"
        if size > MAX_REPLAYED_LOG:
            raise StateFileError(
                f"{where} is {size // 2**20} MiB, over the {MAX_REPLAYED_LOG // 2**20} MiB limit; it is left untouched"
            )
        data = self.log_path.read_bytes()
        head, _, body = data.partition(b"\n")
        if not head.startswith(LOG_MAGIC):
            raise StateFileError(f"{where} is not a broker-mocks change log; move it away. Both are left untouched")
        if not body:
            return []  # a header alone (killed before its first commit): nothing to fold, whoever's it was
        if self.rows is None:
            raise StateFileError(
                f"{where} holds commits of a state file that is gone (the file itself is new or empty); move "
                "the log away to start afresh. Both are left untouched"
            )
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()
        if row is None or head[len(LOG_MAGIC) :].decode("ascii", "replace") != str(row[0]):
            raise StateFileError(
                f"{where} belongs to another state file (its ID differs); move it away. Both are left untouched"
            )
        lines = body.split(b"\n")
        records: list[_Record] = []
        for n, line in enumerate(lines, 2):
            last = n == len(lines) + 1
            if not line and last:
                break
            record = _Record.parse(line)
            if record is None:
                if last:  # the commit a kill cut short: never acknowledged
                    log.warning("state file %s: the last %d bytes of %s are a commit cut short; dropped",
                                self.path, len(line), self.log_path)  # fmt: skip
                    break
                raise StateFileError(
                    f"{where} is damaged at line {n} (its checksum or JSON does not hold); both are left untouched"
                )
            records.append(record)
        return records

    def _open_log(self, ident: str) -> None:
        """The change log emptied (what it held is in the file now) and opened for appending."""
        header = LOG_MAGIC + ident.encode("ascii") + b"\n"
        try:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
            os.ftruncate(fd, 0)
            _write_all(fd, header)
        except OSError as exc:
            raise StateFileError(f"change log {str(self.log_path)!r} cannot be written: {exc.strerror}") from None
        self._fd, self._size, self._head = fd, len(header), len(header)

    # ------------------------------------------------------------------ writing

    def write(self, changes: Changes) -> None:
        """Make `changes` durable: appended to the change log (a full one replaces everything stored),
        folded into the database soon after. Raises StateFileError, having stored nothing, if the
        disk refuses."""
        record = _Record.of(changes)
        line = record.line()
        with self._append:
            if self._fd is None:
                raise StateFileError(f"state file {str(self.path)!r} is closed")
            try:
                _write_all(self._fd, line)
            except OSError as exc:
                try:  # a line cut short must not stay in front of the next commit's
                    os.ftruncate(self._fd, self._size)
                except OSError:
                    pass
                raise StateFileError(f"state file {str(self.path)!r} could not be written: {exc.strerror}") from None
            self._size += len(line)
            self._appended_at = time.monotonic()
            if record.full:
                self.version = VERSION  # what the file is from this commit on (folded in shortly)
            self._pending.append(record)
            self._pending_bytes += len(line)
            if self._pending_bytes >= FOLD_BYTES or self._size >= MAX_LOG_BYTES:
                self._wake.set()

    def fold(self) -> None:
        """Fold the change log into the database (one transaction) and empty it when no commit came
        meanwhile; over MAX_LOG_BYTES commits wait until it is emptied. A failure is logged: the
        commits stay in the log, to be folded next time."""
        with self._lock:
            with self._append:
                mark = self._size
            if not self._fold_pending(self._append):
                return
            with self._append:
                if self._size > mark and self._size >= MAX_LOG_BYTES:
                    # Commits wait (this thread holds the log): the rest is folded now, so it can be emptied.
                    if not self._fold_pending(None):
                        return
                    mark = self._size
                if self._size == mark and mark > self._head and self._fd is not None:
                    try:
                        os.ftruncate(self._fd, self._head)
                        self._size = self._head
                    except OSError as exc:  # the log keeps what is folded: folding it again changes nothing
                        log.warning("state file %s: the change log could not be emptied: %s", self.path, exc)

    def _fold_pending(self, guard: threading.Lock | None) -> bool:
        """Fold the pending commits (taken under `guard`, None when the caller holds it); False when
        SQLite refused: they stay pending, and the log is not emptied under them."""
        with guard if guard is not None else contextlib.nullcontext():
            records, self._pending, self._pending_bytes = self._pending, [], 0
        try:
            if records:
                self._transaction(records)
            return True
        except BaseException as exc:
            with guard if guard is not None else contextlib.nullcontext():
                self._pending[:0] = records
                self._pending_bytes += sum(len(r.line()) for r in records)
            if not isinstance(exc, sqlite3.Error):
                raise
            log.error("state file %s: folding the change log failed (it is kept, and retried): %s", self.path, exc)
            return False

    def _folding(self, every: float) -> None:
        while True:
            self._wake.wait(every)
            self._wake.clear()
            if self._stopping:
                return
            if time.monotonic() - self._appended_at < every and self._pending_bytes < FOLD_BYTES:
                continue  # requests are coming: fold once they pause, or once FOLD_BYTES wait
            try:
                self.fold()
            except Exception:  # the thread must outlive any one failure: the commits are in the log
                log.exception("state file %s: folding the change log failed", self.path)

    def _transaction(self, records: list[_Record]) -> None:
        """Apply `records` in order, in one transaction (applying one again gives the same file)."""
        conn = self._conn
        if len(records) == 1 and records[0].small():
            records[0].apply(conn, self)  # one statement is one transaction, and one call into SQLite
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows: dict[str, str] = {}  # consecutive commits of rows only: one statement per 100 rows
            for record in records:
                if record.small():
                    for key, text in record.rows:
                        rows.pop(key, None)  # the last text of a key wins, in its place
                        rows[key] = text
                    continue
                _insert_rows(conn, rows)
                rows = {}
                record.apply(conn, self)
                time.sleep(0)  # let the requests run (see _insert_rows)
            _insert_rows(conn, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Fold the change log into the file, remove the log, merge the write-ahead log and close."""
        self._stopping = True
        self._wake.set()
        if self._folder is not None and self._folder is not threading.current_thread():
            self._folder.join()
        self.fold()
        with self._lock, self._append:
            if self._fd is not None:
                if not self._pending and self._size == self._head:
                    try:
                        self.log_path.unlink()
                    except OSError as exc:
                        log.warning("state file %s: the change log could not be removed: %s", self.path, exc)
                else:  # not folded (the disk refused): kept, to be folded on the next start
                    log.error("state file %s: commits are left in %s for the next start", self.path, self.log_path)
                os.close(self._fd)
                self._fd = None
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # the data is safe in the WAL either way
                log.warning("state file %s: checkpoint at close failed: %s", self.path, exc)
            self._conn.close()


class _Record:
    """One commit: its rows as JSON text, the keys removed and the point spans, as one log line."""

    __slots__ = ("full", "rows", "removed", "spans", "_line")

    def __init__(
        self, full: bool, rows: list[tuple[str, str]], removed: list[str], spans: list[Span], line: bytes | None = None
    ) -> None:
        self.full, self.rows, self.removed, self.spans = full, rows, removed, spans
        self._line = line

    @classmethod
    def of(cls, changes: Changes) -> _Record:
        parts, spans = dict(changes.parts), list(changes.spans)
        for key in [k for k in parts if k.startswith(POINTS)]:  # a series given whole, as a part
            spans.append(_whole(key, parts.pop(key)))
        return cls(changes.full, [(k, _text(v)) for k, v in parts.items()], list(changes.removed), spans)

    def line(self) -> bytes:
        if self._line is None:
            spans = [[s.key, s.start, s.end, s.points] for s in self.spans]
            payload = None
            if not spans:  # text only (spans hold floats, infinite ones among them: json's own text)
                try:  # the bytes json.dumps gives, at a fraction of the cost (tests/test_state_log.py)
                    payload = orjson.dumps([self.full, self.rows, self.removed, spans])
                except orjson.JSONEncodeError:
                    pass
            if payload is None:
                payload = dumps([self.full, self.rows, self.removed, spans]).encode("utf-8")
            self._line = b"%08x %s\n" % (zlib.crc32(payload), payload)
        return self._line

    @classmethod
    def parse(cls, line: bytes) -> _Record | None:
        """The record of a log line, or None when its checksum or shape does not hold."""
        crc, _, payload = line.partition(b" ")
        try:
            if int(crc, 16) != zlib.crc32(payload) or len(crc) != 8:
                return None
            full, rows, removed, spans = json.loads(payload)
            record = cls(bool(full), [(str(k), str(v)) for k, v in rows], [str(k) for k in removed],
                         [Span(str(k), float(a), float(b), list(points)) for k, a, b, points in spans],
                         line + b"\n")  # fmt: skip
        except (ValueError, TypeError):
            return None
        return record

    def small(self) -> bool:
        return not (self.full or self.removed or self.spans) and 0 < len(self.rows) <= _ONE_STATEMENT_ROWS

    def apply(self, conn: sqlite3.Connection, file: StateFile) -> None:
        if self.full:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("format", FORMAT), ("version", str(VERSION)), ("api", file.api)],
            )
            conn.execute("DELETE FROM state")
            conn.execute("DELETE FROM points")
            file.version = VERSION
        _insert_rows(conn, dict(self.rows))
        if self.removed:
            conn.executemany("DELETE FROM state WHERE key = ?", [(k,) for k in self.removed])
        for span in self.spans:
            if not self.full:
                conn.execute(
                    "DELETE FROM points WHERE series = ? AND t >= ? AND t < ?", (span.key, span.start, span.end)
                )
            conn.executemany(
                "INSERT INTO points (series, t, n, value, digest) VALUES (?, ?, ?, ?, ?)", _point_rows(span)
            )


def _insert_rows(conn: sqlite3.Connection, rows: dict[str, str]) -> None:
    items = list(rows.items())
    for i in range(0, len(items), _FOLD_SLICE):
        if i:
            # The fold runs beside the requests: between slices it lets them have the interpreter
            # (else one waits up to the 5 ms switch interval, in the replies' 99th percentile).
            time.sleep(0)
        params: list[str] = []
        for key, text in items[i : i + _FOLD_SLICE]:  # _digest inlined: a fold computes three a request
            params += (key, text, sha256(text.encode("utf-8")).hexdigest())
        conn.execute(_INSERT_ROWS[len(params) // 3], params)


_INSERT_ROWS = [
    "INSERT OR REPLACE INTO state (key, value, digest) VALUES " + ",".join(["(?, ?, ?)"] * n)
    for n in range(_FOLD_SLICE + 1)
]  # by the number of rows (a slice holds at most _FOLD_SLICE)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
