"""`MockServer`: what both emulators' handles share (StreamsterMock, InstaForexMock build on it).

A handle serves one emulator's WSGI app on host:port (0 = a free port) in a background thread,
is a context manager, answers for its journal (`assert_called`, `assert_not_called`) and passes
the common control operations to its controller (`mock_common.control.BaseController`). The journal
and fault part (`CallHandle`) is also the recorder's and the replay server's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from .control import BaseController, CallControl
from .faults import FaultRule
from .journal import Journal, JournalEntry, Where
from .peers import url_host
from .persist import Persister
from .server import ErrorBody, InlinePolicy, WSGIServer

log = logging.getLogger(__name__)
H = TypeVar("H", bound="MockServer")


class CallHandle:
    """What every server handle answers for (an emulator's, a recorder's, a replay server's): its journal
    (`assert_called`, `assert_not_called`) and its queued faults, through its `controller`."""

    controller: CallControl

    @property
    def journal(self) -> Journal:
        """The bounded request journal (`.entries()`, `.clear()`)."""
        return self.controller.journal

    def assert_called(self, operation: str, times: int | None = None, where: Where = None) -> list[JournalEntry]:
        """The calls to `operation` (case-insensitive) that `where` picks (a predicate on the entry, or text
        in the request body or path); AssertionError unless there are `times` of them (at least one
        when None), listing the calls seen, nearest first."""
        return self.controller.journal.assert_called(operation, times, where)

    def assert_not_called(self, operation: str, where: Where = None) -> None:
        """AssertionError if a call to `operation` that `where` picks was made, listing them."""
        self.controller.journal.assert_not_called(operation, where)

    def fail(
        self, operation: str, kind: str = "fault", times: int | None = 1, probability: float | None = None,
        **params: Any,
    ) -> FaultRule:  # fmt: skip
        """Queue a failure for the next `times` calls to `operation` ('*' for all), or each call with
        `probability` (drawn from the seed); params: status, code, message, seconds."""
        return self.controller.fail(operation, kind, times, probability, **params)

    def clear_faults(self) -> None:
        """Drop every queued failure."""
        self.controller.clear_faults()


class MockServer(CallHandle):
    """The server handle: url, start, stop, `with`, journal assertions and common control operations."""

    title = "emulator"  # for the log line on start
    controller: BaseController
    persister: Persister | None = None

    def _serve(
        self, handler: Callable[..., Any], host: str, port: int, threads: int, name: str, error_body: ErrorBody,
        inline: InlinePolicy | None = None,
    ) -> None:  # fmt: skip
        """Bind the port (serving starts with start()); `inline` as in WSGIServer."""
        self._server = WSGIServer(handler, host, port, threads=threads, name=name, error_body=error_body, inline=inline)
        self.host, self.port = host, self._server.port
        self._started = False

    def _keep_state(self, file: Any, source: Any) -> None:
        """With --state: save the whole state in `file` now, and after every change the controller makes."""
        self.persister = Persister(file, source)
        self.persister.commit()
        self.controller.on_change = self.persister.commit

    def _drop_state(self, file: Any) -> None:
        """A start that failed: stop saving and close the state file."""
        if self.persister is not None:
            self.persister.close()
        else:
            file.close()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """http://host:port, a wildcard bind named by its loopback address."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "::1" if self.host == "::" else self.host
        return f"http://{url_host(host)}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return self.base_url

    def start(self: H) -> H:
        """Serve in a background thread."""
        if not self._started:
            self._server.start()
            self._started = True
            log.info("%s serving %s", self.title, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port (and the state file, closed with everything saved)."""
        self._server.stop()
        self._started = False
        if self.persister is not None:
            self.persister.close()

    def __enter__(self: H) -> H:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ common control operations

    def state(self) -> dict[str, Any]:
        """A short summary: clock, counts, operations, journal size (as GET /_mock/state)."""
        return self.controller.state()

    def reset(self) -> None:
        """Back to what the constructor built, fault draws included; faults and journal cleared."""
        self.controller.reset()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward; what happens on the way happens (ticks, fills, expiries)."""
        return self.controller.advance(seconds)

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        return self.controller.snapshot()

    def restore(self, data: dict[str, Any]) -> None:
        """Put the state back as a snapshot has it (reset() still goes back to the constructor's)."""
        self.controller.restore(data)
