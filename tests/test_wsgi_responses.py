"""The in-process route's `responses` registration: one per route, every method, a response as a socket gives it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
import requests
import responses

from mock_common.pytest_plugin import InProcessRoute
from mock_common.wsgi_responses import FunctionResponse, base_pattern


class _Mock:
    url = "http://127.0.0.1:1/"


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    body = environ["wsgi.input"].read()
    if path == "/cookie":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "session=abc; Path=/")])
        return [b"set"]
    if path == "/echo":
        seen = f"{environ['REQUEST_METHOD']} {environ.get('QUERY_STRING')} {environ.get('HTTP_X_THING')} "
        start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "999")])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [seen.encode(), body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no " + path.encode()]


def test_every_method_under_each_base_url_reaches_the_app_and_is_recorded() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        InProcessRoute(_Mock(), _app, ("https://api.example.test/", "https://API.other.test/v1/"), rsps)
        assert len(rsps.registered()) == 1  # one registration, whatever the methods and base URLs
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            r = requests.request(method, "https://api.example.test/echo?a=1", data=b"xyz", headers={"X-Thing": "t"})
            assert (r.status_code, r.reason, r.text) == (201, "Created", f"{method} a=1 t xyz")
        head = requests.head("https://api.example.test/echo")
        assert head.status_code == 201 and head.content == b""
        assert requests.get("https://api.other.test/v1/x").text == "no /v1/x"  # the host in any case
        assert len(rsps.calls) == 8
        with pytest.raises(requests.ConnectionError):
            requests.get("https://api.other.test/v2/x")  # not under a base URL: refused, as responses does


def test_cookies_reach_the_session_and_a_streamed_body_comes_in_the_chunks_asked() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        InProcessRoute(_Mock(), _app, ("https://api.example.test/",), rsps)
        session = requests.Session()
        assert session.get("https://api.example.test/cookie").text == "set"
        assert session.cookies.get("session") == "abc"
        r = session.post("https://api.example.test/echo", data=b"0123456789", stream=True)
        chunks = list(r.iter_content(3))
        assert b"".join(chunks) == b"POST  None 0123456789" and {len(c) for c in chunks} == {3}
        assert r.raw.closed


def test_an_exception_the_answer_gives_reaches_the_caller_and_a_new_answer_is_made_each_time() -> None:
    answers = iter([(200, [("Content-Type", "text/plain")], b"one"), requests.ConnectionError("reset"),
                    (503, {"Retry-After": "1"}, "three")])  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(FunctionResponse(base_pattern(["http://h.test"]), lambda request: next(answers), ["GET"]))
        assert requests.get("http://h.test/a").text == "one"
        with pytest.raises(requests.ConnectionError, match="reset"):
            requests.get("http://h.test/a")
        third = requests.get("http://h.test")
        assert (third.status_code, third.text, third.headers["Retry-After"]) == (503, "three", "1")
        with pytest.raises(requests.ConnectionError):
            requests.post("http://h.test/a")  # a method it was not given
