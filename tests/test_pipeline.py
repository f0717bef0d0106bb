"""The one call pipeline (mock_common/pipeline.py): the per-call sequence, whatever the server."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import pytest

from mock_common.faults import DROP_KEY, FaultPlan, Reply
from mock_common.journal import Journal
from mock_common.persist import StateFileError
from mock_common.pipeline import Api, Call, Pipeline, RefusedError, note_refusal, reply


class RefusalError(Exception):
    """A refusal that names its reason, as the emulators' refusals may."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Toy(Api):
    """A server whose calls echo their body; `events` records the order of what the pipeline did."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._journal = Journal()
        self._faults = FaultPlan(seed=1, targets=("Echo", "Write"), kinds=("fault", "delay", "drop"))
        self.fault_replies = {"fault": lambda rule: reply(503, [], rule.message.encode())}
        self.fail_commit = False

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def faults(self) -> FaultPlan:
        return self._faults

    def read(self, environ: dict[str, Any]) -> Call:
        body = environ["wsgi.input"].read()
        if body == b"unreadable":
            raise RefusedError(reply(400, [], b"<refused/>"), "the body is unreadable", body, {"peer": "p"}, "garbled")
        self.events.append("read")
        return Call(environ["PATH_INFO"].strip("/") or None, body, {"peer": "p"})

    def call(self, call: Call, environ: dict[str, Any]) -> Reply:
        self.events.append("call")
        if call.request == b"bug":
            raise RuntimeError("a bug")
        if call.request == b"deny":
            note_refusal(environ, RefusalError("token expired"))
            return reply(403, [], b"denied")
        return reply(200, [("Content-Type", "text/plain")], call.request or b"")

    def changes_state(self, call: Call, status: int) -> bool:
        return call.operation == "Write"

    def commit(self) -> None:
        self.events.append("commit")
        if self.fail_commit:
            raise StateFileError("state file 's.db' could not be written: disk full")


def _send(pipeline: Pipeline, operation: str, body: bytes = b"") -> tuple[str, list[tuple[str, str]], bytes]:
    environ = {"PATH_INFO": f"/{operation}", "wsgi.input": io.BytesIO(body)}
    started: list[Any] = []
    result = pipeline(environ, lambda status, headers: started.append((status, headers)))
    pipeline.api.events.append(f"reply {started[0][0][:3]}")  # type: ignore[attr-defined]
    return started[0][0], started[0][1], b"".join(result)


def test_a_call_is_read_made_committed_journaled_and_answered_in_that_order() -> None:
    api = Toy()
    pipeline = Pipeline(api)
    assert _send(pipeline, "Write", b"hello") == ("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")],
                                                   b"hello")  # fmt: skip
    assert _send(pipeline, "Echo", b"again")[2] == b"again"
    assert api.events == ["read", "call", "commit", "reply 200", "read", "call", "reply 200"]  # reads commit nothing
    first, second = api.journal.entries()
    assert (first.operation, first.request, first.response, first.status, first.fault, first.reason) == (
        "Write", "hello", "hello", 200, None, None,
    )  # fmt: skip
    assert first.details == {"peer": "p"} and first.duration_ms is not None and first.duration_ms >= 0
    assert first.time and second.seq == 2 and second.operation == "Echo"


def test_a_request_refused_before_the_call_is_journaled_without_an_operation_and_changes_nothing() -> None:
    api = Toy()
    assert _send(Pipeline(api), "Write", b"unreadable")[::2] == ("400 Bad Request", b"<refused/>")
    assert api.events == ["reply 400"]  # no call, no commit
    (entry,) = api.journal.entries()
    assert (entry.operation, entry.status, entry.response, entry.request, entry.reason) == (
        None, 400, "the body is unreadable", "unreadable", "garbled",
    )  # fmt: skip


def test_a_refusal_noted_during_the_call_gives_the_entry_its_reason() -> None:
    api = Toy()
    assert _send(Pipeline(api), "Echo", b"deny")[0] == "403 Forbidden"
    (entry,) = api.journal.entries()
    assert entry.reason == "token expired" and entry["reason"] == "token expired"
    assert "(token expired)" in entry.summary()


def test_queued_faults_answer_instead_delay_the_call_or_drop_after_journaling() -> None:
    api = Toy()
    pipeline = Pipeline(api)
    api.faults.add("Write", kind="fault", message="Injected")
    assert _send(pipeline, "Write", b"x")[:1] + _send(pipeline, "Write", b"y")[2:] == ("503 Service Unavailable", b"y")
    api.faults.add("Echo", kind="delay", seconds=0.05)
    started = time.monotonic()
    assert _send(pipeline, "Echo", b"slow")[2] == b"slow" and time.monotonic() - started >= 0.05
    api.faults.add("Echo", kind="drop")
    environ = {"PATH_INFO": "/Echo", "wsgi.input": io.BytesIO(b"gone")}
    status, _, body = pipeline.run(environ)
    assert environ.get(DROP_KEY) is True and status.startswith("500") and body == b""
    entries = api.journal.entries()
    assert [(e.operation, e.fault, e.status) for e in entries] == [
        ("Write", "fault", 503), ("Write", None, 200), ("Echo", "delay", 200), ("Echo", "drop", None),
    ]  # fmt: skip
    assert entries[-1].response is None and entries[0].response == "Injected"
    assert api.events.count("call") == 2 and api.events.count("commit") == 1  # the injected fault changes nothing


def test_a_failing_call_gets_the_apis_500_and_the_server_keeps_serving(caplog: pytest.LogCaptureFixture) -> None:
    api = Toy()
    pipeline = Pipeline(api)
    with caplog.at_level(logging.ERROR, "mock_common.pipeline"):
        assert _send(pipeline, "Echo", b"bug")[::2] == ("500 Internal Server Error", b"An error has occurred.")
    assert any("failure inside the emulator answering Echo" in r.getMessage() for r in caplog.records)
    assert _send(pipeline, "Echo", b"fine")[2] == b"fine"
    assert [e.status for e in api.journal.entries()] == [500, 200]


def test_a_change_that_cannot_be_saved_is_answered_500_and_journaled_so() -> None:
    api = Toy()
    api.fail_commit = True
    status, _, body = _send(Pipeline(api), "Write", b"order")
    assert status == "500 Internal Server Error" and b"could not save its state" in body and b"disk full" in body
    assert api.events == ["read", "call", "commit", "reply 500"]
    (entry,) = api.journal.entries()
    assert entry.status == 500 and "disk full" in (entry.response or "")


def test_a_server_without_journal_or_faults_only_reads_and_calls() -> None:
    class Bare(Api):
        def read(self, environ: dict[str, Any]) -> Call:
            return Call("Anything", b"")

        def call(self, call: Call, environ: dict[str, Any]) -> Reply:
            return reply(204, [], b"")

    assert Pipeline(Bare()).run({})[0] == "204 No Content"
    assert Bare().error_reply(502, "upstream down")[2] == b"upstream down"


def test_an_http_fault_with_a_status_python_does_not_name_still_answers() -> None:
    assert reply(599, [], b"")[0] == "599 Unknown"
