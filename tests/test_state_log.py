"""The state file's change log (`FILE-changes`): each commit is appended there before its reply and
folded into the database in the background. A process killed before a fold loses nothing (the next
start folds the log in), a line a kill cut short is dropped, and a log that is damaged or belongs to
another state file is refused with both files kept as they were."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import os
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_common import persist
from mock_common.parts import Changes, Span
from mock_common.persist import LOG_SUFFIX, StateFile, StateFileError
from mock_streamster.model import Order, Position, Trade

API = "streamster"


def _open(path: Path) -> StateFile:
    return StateFile(path, API, fold_every=None)  # folds only when asked: the tests decide when


def _killed(file: StateFile) -> None:
    """What SIGKILL leaves: no fold, no close; the descriptors simply go away."""
    assert file._fd is not None
    os.close(file._fd)
    file._conn.close()


def _rows_after_a_kill(file: StateFile, path: Path) -> dict[str, Any] | None:
    """The parts a start finds after `file` was killed (the change log folded in)."""
    _killed(file)
    again = _open(path)
    try:
        return again.rows
    finally:
        again.close()


def _stored(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        rows = dict(conn.execute("SELECT key, value FROM state"))
        points = conn.execute("SELECT series, t, n, value FROM points ORDER BY series, t, n").fetchall()
    finally:
        conn.close()
    return {"rows": rows, "points": points}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _log_lines(path: Path) -> list[bytes]:
    return Path(f"{path}{LOG_SUFFIX}").read_bytes().splitlines()


def test_a_commit_is_in_the_log_at_once_and_survives_a_kill_before_any_fold(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": {"seed": 1}, "clock": {"now": 1}}))
    f.write(Changes(full=False, parts={"clock": {"now": 2}, "order/1": {"id": "A"}}))
    lines = _log_lines(path)
    assert lines[0].startswith(b"broker-mocks-changes 1 ") and len(lines) == 3
    _killed(f)
    again = _open(path)  # folds the log in, then empties it
    try:
        assert again.rows == {"core": {"seed": 1}, "clock": {"now": 2}, "order/1": {"id": "A"}}
        assert len(_log_lines(path)) == 1  # the header only
    finally:
        again.close()
    assert not Path(f"{path}{LOG_SUFFIX}").exists()  # a clean stop removes it
    assert _stored(path)["rows"]["clock"] == '{"now":2}'


def test_a_fold_applies_commits_in_order_removals_and_spans_included(tmp_path: Path) -> None:
    path, one_by_one = tmp_path / "batched.db", tmp_path / "single.db"
    commits = [
        Changes(full=True, parts={"a": 1, "b": 1}),
        Changes(full=False, parts={"a": 2}, spans=[Span("points/x", 0.0, float("inf"), [[1.0, "1.1", 1], [2.0, "1.2", 1]])]),
        Changes(full=False, removed=["a"]),
        Changes(full=False, parts={"a": 3, "c": 1}),
        Changes(full=False, removed=["b"], spans=[Span("points/x", 2.0, float("inf"), [[2.0, "1.3", 2], [3.0, "1.4", 1]])]),
    ]  # fmt: skip
    batched, single = _open(path), _open(one_by_one)
    for c in commits:
        batched.write(c)
        single.write(c)
        single.fold()
    batched.fold()  # all five in one transaction
    batched.close()
    single.close()
    assert _stored(path) == _stored(one_by_one)
    assert _stored(path)["rows"] == {"a": "3", "c": "1"}
    assert [p[1:3] for p in _stored(path)["points"]] == [(1.0, 0), (2.0, 0), (3.0, 0)]


def test_a_line_a_kill_cut_short_is_dropped_and_the_rest_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": 1}))
    f.write(Changes(full=False, parts={"order/1": "kept"}))
    _killed(f)
    with open(f"{path}{LOG_SUFFIX}", "ab") as log:
        log.write(persist._Record.of(Changes(full=False, parts={"order/2": "lost"})).line()[:-9])  # no end
    with caplog.at_level(logging.WARNING, logger="mock_common.persist"):
        again = _open(path)
    try:
        assert again.rows == {"core": 1, "order/1": "kept"}
        assert "a commit cut short; dropped" in caplog.text
    finally:
        again.close()


def test_a_log_damaged_before_its_last_line_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": 1}))
    f.write(Changes(full=False, parts={"order/1": "x"}))
    f.write(Changes(full=False, parts={"order/2": "y"}))
    _killed(f)
    log = Path(f"{path}{LOG_SUFFIX}")
    data = log.read_bytes()
    log.write_bytes(data.replace(b"order/1", b"order/9"))  # line 3 no longer matches its checksum
    before = _digest(log)
    with pytest.raises(StateFileError, match=r"change log .* is damaged at line 3"):
        _open(path)
    assert _digest(log) == before


def test_a_log_of_another_state_file_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    a = _open(first)
    a.write(Changes(full=True, parts={"core": "first"}))
    _killed(a)
    b = _open(second)
    b.write(Changes(full=True, parts={"core": "second"}))
    b.close()
    stray = Path(f"{second}{LOG_SUFFIX}")
    stray.write_bytes(Path(f"{first}{LOG_SUFFIX}").read_bytes())
    with pytest.raises(StateFileError, match="belongs to another state file"):
        _open(second)
    assert stray.read_bytes() == Path(f"{first}{LOG_SUFFIX}").read_bytes()
    Path(f"{first}").unlink()  # the log's own state file gone: its commits have nowhere to go
    for suffix in ("-wal", "-shm"):
        Path(f"{first}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StateFileError, match="holds commits of a state file that is gone"):
        _open(first)
    assert not first.exists()  # no empty database left behind
    not_ours = tmp_path / "third.db"
    Path(f"{not_ours}{LOG_SUFFIX}").write_bytes(b"something else\n")
    with pytest.raises(StateFileError, match="is not a broker-mocks change log"):
        _open(not_ours)


def test_a_write_the_disk_refuses_stores_nothing_and_the_next_one_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": 1}))
    size = Path(f"{path}{LOG_SUFFIX}").stat().st_size
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(persist.os, "write", half_then_full)
    with pytest.raises(StateFileError, match="could not be written: No space left on device"):
        f.write(Changes(full=False, parts={"order/1": "refused"}))
    monkeypatch.setattr(persist.os, "write", real_write)
    assert Path(f"{path}{LOG_SUFFIX}").stat().st_size == size  # the half line taken back
    f.write(Changes(full=False, parts={"order/2": "stored"}))
    assert _rows_after_a_kill(f, path) == {"core": 1, "order/2": "stored"}


def test_the_background_fold_empties_the_log(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    f = StateFile(path, API, fold_every=0.01)
    try:
        f.write(Changes(full=True, parts={"core": 1}))
        for n in range(50):
            f.write(Changes(full=False, parts={f"order/{n}": n}))
        assert f.read()["order/49"] == 49  # read() folds first
        for _ in range(200):
            if len(_log_lines(path)) == 1:
                break
            time.sleep(0.01)
        assert len(_log_lines(path)) == 1
    finally:
        f.close()


def test_a_fold_that_fails_keeps_its_commits_pending_and_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": 1}))
    f.fold()
    f.write(Changes(full=False, parts={"order/1": "a"}))
    real_apply = persist._Record.apply

    def refused(self: Any, conn: Any, file: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(persist._Record, "apply", refused)
    with caplog.at_level(logging.ERROR, logger="mock_common.persist"):
        f.fold()
    assert "folding the change log failed (it is kept, and retried): disk I/O error" in caplog.text
    f.write(Changes(full=False, parts={"order/2": "b"}))
    monkeypatch.setattr(persist._Record, "apply", real_apply)
    f.fold()  # the failed commit first, then the new one
    assert len(_log_lines(path)) == 1
    assert _rows_after_a_kill(f, path) == {"core": 1, "order/1": "a", "order/2": "b"}


def test_over_the_log_limit_a_fold_takes_the_commits_that_came_meanwhile_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    f = _open(path)
    f.write(Changes(full=True, parts={"core": 1}))
    monkeypatch.setattr(persist, "MAX_LOG_BYTES", 1)  # every log is over it
    real = StateFile._transaction
    calls: list[int] = []

    def with_a_commit_meanwhile(self: StateFile, records: list[Any]) -> None:
        real(self, records)
        calls.append(len(records))
        if len(calls) == 1:
            self.write(Changes(full=False, parts={"order/1": "meanwhile"}))  # a request during the fold

    monkeypatch.setattr(StateFile, "_transaction", with_a_commit_meanwhile)
    f.fold()
    assert calls == [1, 1] and len(_log_lines(path)) == 1  # both folded, the log emptied
    assert _rows_after_a_kill(f, path) == {"core": 1, "order/1": "meanwhile"}


def test_a_log_with_its_header_alone_is_started_afresh_whoever_it_was(tmp_path: Path) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    a = _open(first)
    _killed(a)  # killed before its first commit: the log holds its header only
    b = _open(second)
    b.write(Changes(full=True, parts={"core": "second"}))
    b.close()
    Path(f"{second}{LOG_SUFFIX}").write_bytes(Path(f"{first}{LOG_SUFFIX}").read_bytes())
    assert _rows_after_a_kill(_open(second), second) == {"core": "second"}  # another file's empty log: no harm


# ------------------------------------------------------------------- the commit's fast encoding (orjson)

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # any text, control characters and non-ASCII included
_DECIMAL = st.decimals(allow_nan=False, allow_infinity=False, places=None)
_WHEN = st.datetimes(timezones=st.one_of(st.none(), st.timezones()))


def _value(annotation: str) -> st.SearchStrategy[Any]:
    base = {"str": _TEXT, "Decimal": _DECIMAL, "datetime": _WHEN}[annotation.split(" | ")[0]]
    return st.one_of(st.none(), base) if annotation.endswith("| None") else base


@settings(max_examples=200)
@given(st.data())
def test_a_records_fast_text_is_json_dumps_byte_for_byte(data: st.DataObject) -> None:
    """The commit encodes orders, positions and trades with orjson; the text must be the one the
    standard library wrote (the state file's rows compare and digest it)."""
    kind = data.draw(st.sampled_from([Order, Position, Trade]))
    record = kind(**{f.name: data.draw(_value(str(f.type)), label=f.name) for f in dataclasses.fields(kind)})
    assert persist.flat_dumps(vars(record)) == persist.dumps(record.to_dict())


@settings(max_examples=200)
@given(st.booleans(), st.lists(st.tuples(_TEXT, _TEXT), max_size=4), st.lists(_TEXT, max_size=3))
def test_a_log_line_without_spans_is_the_line_json_dumps_gives(full: bool, rows: Any, removed: list[str]) -> None:
    line = persist._Record(full, rows, removed, []).line()
    payload = persist.dumps([full, rows, removed, []]).encode("utf-8")
    assert line == b"%08x %s\n" % (zlib.crc32(payload), payload)
    parsed = persist._Record.parse(line[:-1])
    assert parsed is not None and (parsed.full, parsed.rows, parsed.removed) == (full, rows, removed)


def test_what_orjson_refuses_is_encoded_by_json() -> None:
    assert persist.flat_dumps({"big": 2**70, "when": None}) == '{"big":1180591620717411303424,"when":null}'
    assert persist.flat_dumps({"lone": "\ud800"}) == persist.dumps({"lone": "\ud800"})
