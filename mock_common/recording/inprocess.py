"""In-process record and replay with `responses`: no socket, so zeep and requests-based bots run unchanged.

A request to the base URL takes the path a recorder's or replay server's takes on a socket: the call
pipeline (`mock_common.pipeline`) around a `RecordingApi` (`recording/wire.py`), entered through
`wsgi_responses.call_wsgi` as the emulators' in-process routes enter theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
import responses

from ..handle import CallHandle
from ..masking import mask_target
from ..pipeline import Pipeline
from ..wsgi_responses import FunctionResponse, base_pattern, call_wsgi
from .cassette import Request, Response
from .control import RecordingControl
from .match import Miss
from .profile import ApiProfile, profile_for
from .session import RecordingSession
from .targets import MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE, absolute_url
from .upstream import HOP_BY_HOP, DeadlineAdapter, fetch
from .wire import RecordingApi

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class InProcess(CallHandle):
    """A record/replay session behind a `responses.RequestsMock`: every request to `base_url` is answered
    from the cassette or, when the mode records, sent to the real URL (unpatched) and recorded.

    Its calls are journaled and faults can be queued for them (`journal`, `assert_called`, `fail`,
    `clear_faults`), as on a replay server; an upstream that gives no usable answer raises
    `requests.ConnectionError` here (a socket recorder answers 502).
    """

    def __init__(self, session: RecordingSession, base_url: str | None = None,
                 mock: responses.RequestsMock | None = None, verify: bool | str = True,
                 deadline: float = UPSTREAM_DEADLINE, max_body: int = MAX_UPSTREAM_BODY) -> None:  # fmt: skip
        self.session = session
        self.deadline, self.max_body = deadline, max_body
        self.base_url = base_url or session.upstream or session.profile.default_upstream
        self.mock = mock if mock is not None else responses.RequestsMock(assert_all_requests_are_fired=False)
        self.verify = verify
        self._adapter = DeadlineAdapter()
        self.controller = RecordingControl(session.profile)
        base = self.base_url

        def address(environ: dict[str, Any]) -> str:
            return base  # a WSDL's soap:address: the URL the bot asked

        api = RecordingApi(
            session, self._forward, address, served=False, prefix=urlsplit(base).path,
            journal=self.controller.journal, faults=self.controller.faults,
        )  # fmt: skip
        self.pipeline = Pipeline(api)

        def answer(prepared: requests.PreparedRequest) -> Any:
            return call_wsgi(self.pipeline, prepared)

        # One registration for every method (`responses` tests each registration on every request).
        self.mock.add(FunctionResponse(base_pattern([base], ignore_case=False), answer, METHODS))

    @property
    def misses(self) -> list[Miss]:
        """Requests the cassette could not answer."""
        return self.session.engine.misses

    @property
    def calls(self) -> responses.CallList:
        """The requests `responses` saw."""
        return self.mock.calls

    def _forward(self, req: Request) -> Response:
        upstream = self.session.upstream or self.base_url
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
        prepared = requests.Request(
            req.method, absolute_url(req.url, upstream), headers=headers, data=req.body.encode("utf-8") or None
        ).prepare()

        def send(seconds: float) -> requests.Response:
            # The unpatched send: this request really goes out, even while the mock is active.
            return responses._real_send(
                self._adapter, prepared, stream=True, timeout=(seconds, seconds), verify=self.verify
            )

        return fetch(send, f"{req.method} {mask_target(prepared.url)}", self.deadline, self.max_body)

    def start(self) -> InProcess:
        """Patch `requests` (the mock starts)."""
        self.mock.start()
        return self

    def stop(self) -> None:
        """Unpatch `requests` (the routes stay registered: it can start again)."""
        self.mock.stop(allow_assert=False)
        self._adapter.close()

    def __enter__(self) -> InProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def replay(cassette: str | Path, api: str | ApiProfile | None = None, base_url: str | None = None,
           exhausted: str = "repeat") -> InProcess:  # fmt: skip
    """A cassette loaded into a `responses.RequestsMock` (use `with replay(path) as r:`)."""
    from .cassette import CassetteError, load

    if api is None and not Path(cassette).exists():
        raise CassetteError(
            f"{cassette}: no such cassette, and replay() only replays. Record it first: "
            "record(path, api, base_url=...) in Python, or `mock-<api> record --upstream URL --cassette PATH`"
        )
    profile = api if isinstance(api, ApiProfile) else profile_for(api or load(cassette).api)
    session = RecordingSession(profile, cassette, "none", exhausted=exhausted)
    return InProcess(session, base_url)


def record(cassette: str | Path, api: str | ApiProfile, base_url: str | None = None, mode: str = "all",
           patterns: Iterable[str] = (), secrets: Iterable[str] = (), verify: bool | str = True,
           deadline: float = UPSTREAM_DEADLINE, max_body: int = MAX_UPSTREAM_BODY) -> InProcess:  # fmt: skip
    """Record what a requests-based bot sends to `base_url` (default: the real API's URL) into `cassette`;
    each request ends within `deadline` seconds, and an answer over `max_body` bytes is refused."""
    profile = api if isinstance(api, ApiProfile) else profile_for(api)
    base = base_url or profile.default_upstream
    session = RecordingSession(profile, cassette, mode, upstream=base, patterns=patterns, secrets=secrets)
    return InProcess(session, base, verify=verify, deadline=deadline, max_body=max_body)
