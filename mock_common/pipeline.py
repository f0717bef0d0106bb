"""The one call pipeline: every API call to either emulator, over a socket or in process, runs `Pipeline.run`.

The per-call sequence is written here once: read the request and name the operation, fire the
fault queued for it (`mock_common.faults.inject`), make the call, commit the state file when the
call may have changed the state (before the reply goes out), time the call, journal it, reply.
What differs between servers is an `Api`: how to read a request, the call itself, the replies
for its fault kinds and errors, and where the journal, the fault plan, the clock and the commit
live (`EmulatorApi` takes them from an emulator's controller).

The pipeline is a WSGI application: a server (`mock_common.server.WSGIServer`) and the in-process
`responses` route (`mock_common.wsgi_responses.call_wsgi`) call the same object. Requests that are
not API calls (the control plane, the WSDL, the OpenAPI document) are routed around it by the
emulator's WSGI application, before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .faults import DROP_KEY, GROUP_KEY, FaultPlan, FaultRule, Reply, inject
from .journal import Journal
from .persist import StateFileError

if TYPE_CHECKING:
    from .control import BaseController

log = logging.getLogger(__name__)

#: The environ key under which the call being answered is kept (`note_refusal` finds it there).
CALL_KEY = "broker_mocks.call"
FAILURE = "An error has occurred."


@dataclass(slots=True)
class Call:
    """One API call on its way through the pipeline: what its journal entry will say of the request.

    `operation` names it (None: no operation of the API; no fault fires then); `request` is the body
    as received (the journal keeps its start); `details` are the emulator's own journal fields (peer,
    method, path, ip); `data` is what the read step hands the call (Streamster: the parsed document);
    `refusal` is the exception by which the emulator refused the call, if it did (its `reason`, when
    it has one, goes to the journal).
    """

    operation: str | None
    request: bytes | str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    refusal: BaseException | None = None


class RefusedError(Exception):
    """A request refused before any operation is named (unreadable, too large, not the API's media
    type): `reply` answers it and the journal keeps it without an operation, with `text` as its response."""

    def __init__(self, reply: Reply, text: str, request: bytes | None = None, details: dict[str, Any] | None = None,
                 reason: str | None = None) -> None:  # fmt: skip
        super().__init__(text)
        self.reply, self.text, self.request, self.details, self.reason = reply, text, request, details or {}, reason


def note_refusal(environ: Mapping[str, Any], exc: BaseException) -> None:
    """Note on the call being answered that the emulator refused it with `exc` (the journal takes its reason)."""
    call = environ.get(CALL_KEY)
    if call is not None:
        call.refusal = exc


def status_line(status: int) -> str:
    """`200 OK`: the code and its phrase ("Unknown" for a code Python does not name, which a fault may use)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def reply(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Reply:
    """A reply with its status line and a Content-Length."""
    return status_line(status), [*headers, ("Content-Length", str(len(body)))], body


class Api:
    """What one server supplies to the pipeline; a subclass implements `read` and `call`.

    The defaults suit a server with no emulated state (a recorder, a replay server): no journal,
    no faults, the wall clock, nothing to commit, errors as plain text.
    """

    #: kind -> the reply an injected rule of that kind answers with (delays and drops are the pipeline's own).
    fault_replies: Mapping[str, Callable[[FaultRule], Reply]] = {}

    @property
    def journal(self) -> Journal | None:
        """Where calls are recorded (None: nowhere)."""
        return None

    @property
    def faults(self) -> FaultPlan | None:
        """The queued faults (None: none fire)."""
        return None

    def now(self) -> datetime:
        """The time a journal entry carries."""
        return datetime.now()

    def read(self, environ: dict[str, Any]) -> Call:
        """The call a request makes (its operation named); raises RefusedError for a request that cannot be one."""
        raise NotImplementedError

    def call(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Answer the call."""
        raise NotImplementedError

    def changes_state(self, call: Call, status: int) -> bool:
        """Whether the call, answered with `status`, may have changed the state (then it is committed)."""
        return False

    def commit(self) -> None:
        """Make the state durable (the state file's commit); raises StateFileError if it cannot."""

    def error_reply(self, status: int, text: str) -> Reply:
        """A failure of the server itself, in the API's words."""
        return reply(status, [("Content-Type", "text/plain; charset=utf-8")], text.encode())


class EmulatorApi(Api):
    """An emulator's side of the pipeline: the journal, the fault plan, the clock and the state file's
    commit are its controller's (read on every call: `configure` replaces the fault plan)."""

    def __init__(self, controller: BaseController) -> None:
        self.controller = controller

    @property
    def journal(self) -> Journal:
        """The controller's journal."""
        return self.controller.journal

    @property
    def faults(self) -> FaultPlan:
        """The controller's fault plan."""
        return self.controller.faults

    def now(self) -> datetime:
        """The emulator's clock."""
        return self.controller.now()

    def commit(self) -> None:
        """The state file's commit, with --state (`controller.on_change`)."""
        self.controller.on_change()


class Pipeline:
    """The per-call sequence around one `Api`, as a WSGI application."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status, headers, body = self.run(environ)
        start_response(status, headers)
        return [body]

    def run(self, environ: dict[str, Any]) -> Reply:
        """Read, fault, call, commit, time, journal: the reply to send (`faults.DROPPED` for a drop,
        with `environ[DROP_KEY]` set, which the transport turns into a reset connection)."""
        api = self.api
        started = time.monotonic()
        journal = api.journal
        at = api.now() if journal is not None else None
        try:
            call = api.read(environ)
        except RefusedError as refused:
            if journal is not None:
                call = Call(None, refused.request, refused.details, refusal=refused)
                _record(journal, at, started, call, refused.reply, None, refused.text)
            return refused.reply
        environ[CALL_KEY] = call
        faults = api.faults
        rule, answer = (None, None) if faults is None else inject(faults, call.operation, environ, api.fault_replies)
        if answer is None:
            try:
                answer = api.call(call, environ)
            except Exception:  # a bug: the client gets the API's 500, the server keeps serving
                log.exception("failure inside the emulator answering %s", call.operation or "a request")
                answer = api.error_reply(500, FAILURE)
            if api.changes_state(call, int(answer[0][:3])):
                group = environ.get(GROUP_KEY)
                if group is not None:  # one commit for the calls the event loop serves together

                    def finish(failure: BaseException | None) -> Reply | None:
                        """After the group's commit: journal the call; the reply to send instead, if it failed."""
                        instead = None if failure is None else _unsaved(api, failure)
                        if journal is not None:
                            _record(journal, at, started, call, instead or answer, rule, None)
                        return instead

                    group(api.commit, finish)
                    return answer
                try:
                    api.commit()
                except StateFileError as exc:  # the change is not acknowledged: the client may retry it
                    answer = _unsaved(api, exc)
        if journal is not None:
            _record(journal, at, started, call, answer, rule, None, dropped=bool(environ.get(DROP_KEY)))
        return answer


def _unsaved(api: Api, failure: BaseException) -> Reply:
    """The reply to a change that could not be saved: not acknowledged, so the client may retry it."""
    log.error("%s", failure)
    return api.error_reply(500, f"The emulator could not save its state: {failure}")


def _record(journal: Journal, at: datetime | None, started: float, call: Call, answer: Reply,
            rule: FaultRule | None, text: str | None, dropped: bool = False) -> None:  # fmt: skip
    """The call's journal entry: what was asked, what was answered (nothing, for a drop), how long it took."""
    journal.add(
        call.operation, call.request, None if dropped else answer[2] if text is None else text,
        None if dropped else int(answer[0][:3]), time=at.isoformat() if at is not None else "",
        fault=rule.kind if rule is not None else None, duration_ms=round((time.monotonic() - started) * 1000, 3),
        reason=_reason(call.refusal), details=call.details,
    )  # fmt: skip


def _reason(refusal: BaseException | None) -> str | None:
    """Why the call was refused, when the refusal says (`reason`), as text."""
    reason = getattr(refusal, "reason", None)
    return None if reason is None else str(reason)
