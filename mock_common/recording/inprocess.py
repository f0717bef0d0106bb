"""In-process record and replay with `responses`: no socket, so zeep and requests-based bots run unchanged."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import responses

from ..masking import mask_target
from ..wsgi_responses import FunctionResponse, base_pattern
from .cassette import Request, Response
from .match import Miss
from .profile import ApiProfile, is_wsdl, profile_for, rewrite_soap_address
from .session import RecordingSession
from .targets import UpstreamError, absolute_url, relative_url
from .upstream import HOP_BY_HOP, MAX_UPSTREAM_BODY, UPSTREAM_DEADLINE, DeadlineAdapter, fetch

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class InProcess:
    """A record/replay session behind a `responses.RequestsMock`: every request to `base_url` is answered
    from the cassette or, when the mode records, sent to the real URL (unpatched) and recorded."""

    def __init__(self, session: RecordingSession, base_url: str | None = None,
                 mock: responses.RequestsMock | None = None, verify: bool | str = True,
                 deadline: float = UPSTREAM_DEADLINE, max_body: int = MAX_UPSTREAM_BODY) -> None:  # fmt: skip
        self.session = session
        self.deadline, self.max_body = deadline, max_body
        self.base_url = base_url or session.upstream or session.profile.default_upstream
        self.mock = mock if mock is not None else responses.RequestsMock(assert_all_requests_are_fired=False)
        self.verify = verify
        self._adapter = DeadlineAdapter()
        # One registration for every method (`responses` tests each registration on every request).
        self.mock.add(FunctionResponse(base_pattern([self.base_url], ignore_case=False), self._answer, METHODS))

    @property
    def misses(self) -> list[Miss]:
        """Requests the cassette could not answer."""
        return self.session.engine.misses

    @property
    def calls(self) -> Any:
        """The requests `responses` saw."""
        return self.mock.calls

    def _answer(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = prepared.body or b""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        req = Request(
            str(prepared.method).upper(), relative_url(str(prepared.url), self.base_url), dict(prepared.headers), text
        )
        try:
            resp, how = self.session.handle(req, self._forward)
        except UpstreamError as exc:
            raise requests.ConnectionError(str(exc)) from exc
        if how == "miss" and req.method == "GET":
            resp = self.session.profile.fallback(req) or resp
        content = resp.content()
        if is_wsdl(resp):
            content = rewrite_soap_address(resp.body, self.base_url).encode("utf-8")
        headers = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
        return resp.status, headers, content

    def _forward(self, req: Request) -> Response:
        upstream = self.session.upstream or self.base_url
        prepared = requests.Request(
            req.method, absolute_url(req.url, upstream), headers=req.headers, data=req.body.encode("utf-8") or None
        ).prepare()

        def send(seconds: float) -> requests.Response:
            # The unpatched send: this request really goes out, even while the mock is active.
            return responses._real_send(  # type: ignore[no-any-return]
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
