"""The in-process transport: a request `requests` sends, answered by a WSGI application through `responses`.

`call_wsgi` runs one request through a WSGI application (the environ a local server would build, a
drop as a ConnectionError); `FunctionResponse` is one `responses` registration that answers every
method under a set of base URLs from a function. The in-process routes (the plugin's `*_responses`
fixtures, in-process record and replay) register one in place of one `add_callback` per method and
base URL: `responses` then tests one pattern per request instead of a dozen, and the answer becomes
urllib3's response directly (what `CallbackResponse` does through a header dictionary it builds and
merges for every call). The answer is made anew for every request. Nothing here needs pytest.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from http.client import responses as reasons
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from responses import BaseResponse
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

from .faults import DROP_KEY
from .server import SOCKET_KEY
from .wsgi import run_app

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# (status, headers, body) as a WSGI app or a cassette gives it, or the exception the call raises.
Answer = Callable[[requests.PreparedRequest], Any]

#: Set in the environ by an application: the exception the in-process route raises to the caller in place
#: of the reply, as `requests` would raise it without the mock (a socket server sends the reply instead).
RAISE_KEY = "broker_mocks.raise"


def base_pattern(bases: Iterable[str], ignore_case: bool = True) -> re.Pattern[str]:
    """A pattern matching every URL under one of `bases` (the base itself, `base/...`, `base?...`)."""
    alternatives = "|".join(re.escape(b.rstrip("/")) for b in bases)
    return re.compile(rf"(?:{alternatives})(?:[/?].*)?$", re.IGNORECASE if ignore_case else 0)


class _Body(BytesIO):
    """The body as `responses` hands it to urllib3: open while bytes are left, then closed once read
    (`responses`' own rule, so `requests` streams it to the end)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)

    def isclosed(self) -> bool:
        if not self.closed and self.read(1):
            self.seek(-1, 1)
            return False
        if not self.closed:
            self.close()
            return False
        return True


class _Original:
    """What `requests` reads cookies from (`response._original_response.msg`)."""

    def __init__(self, msg: HTTPHeaderDict) -> None:
        self.msg = msg

    def isclosed(self) -> bool:
        return True

    def close(self) -> None:
        pass


class _MemoryResponse(HTTPResponse):  # type: ignore[misc]
    """urllib3's response over a body already in memory. Read whole in one piece when nothing was read
    yet, the reader takes at least that much at once, and the body is neither encoded nor at odds with
    its Content-Length (what `requests` does for `.content`); otherwise urllib3 reads it as usual."""

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        fp = self._fp
        if (
            isinstance(fp, _Body) and fp.tell() == 0 and (amt is None or amt >= fp.size)
            and "content-encoding" not in self.headers
            and self.headers.get("content-length", str(fp.size)) == str(fp.size)
        ):  # fmt: skip
            data = fp.read()
            self._fp_bytes_read = getattr(self, "_fp_bytes_read", 0) + len(data)
            if data:
                yield data
            return
        yield from super().stream(amt, decode_content)


def http_response(status: int, headers: Sequence[tuple[str, str]] | dict[str, str], body: bytes,
                  method: str | None) -> HTTPResponse:  # fmt: skip
    """The urllib3 response `requests` builds its Response from, as a socket would have given it."""
    header_dict = HTTPHeaderDict()
    cookies = False
    for name, value in headers.items() if isinstance(headers, dict) else headers:
        header_dict.add(name, value)
        cookies = cookies or name.lower() in ("set-cookie", "set-cookie2")
    # `requests` reads cookies from the original response; without a cookie header it has none to read.
    original = _Original(header_dict) if cookies else None
    return _MemoryResponse(
        body=_Body(body), headers=header_dict, status=status, reason=reasons.get(status),
        preload_content=False, request_method=method, original_response=original,  # type: ignore[arg-type]
    )  # fmt: skip


class FunctionResponse(BaseResponse):  # type: ignore[misc]
    """A `responses` registration: any of `methods` on a URL `pattern` matches, `answer` makes the reply.

    The registry still records every call (`rsps.calls`, `response.calls`); an exception `answer`
    returns or raises reaches the caller, as a callback's does.
    """

    def __init__(self, pattern: re.Pattern[str], answer: Answer, methods: Iterable[str] = METHODS) -> None:
        super().__init__("ANY", pattern)
        self.methods = frozenset(m.upper() for m in methods)
        self.answer = answer
        self.content_type = None

    def matches(self, request: requests.PreparedRequest) -> tuple[bool, str]:
        if request.method not in self.methods:
            return False, "Method does not match"
        if self.url.match(str(request.url)) is None:
            return False, "URL does not match"
        return True, ""

    def get_response(self, request: requests.PreparedRequest) -> HTTPResponse:
        result = self.answer(request)
        if isinstance(result, BaseException):
            raise result
        status, headers, body = result
        if isinstance(body, BaseException):
            raise body
        if isinstance(body, str):
            body = body.encode("utf-8")
        return http_response(status, headers, body, request.method)


# ----------------------------------------------------------------------------- a request through a WSGI app


class _Socket:
    """What an injected 'drop' fault resets in process: it notes the drop."""

    dropped = False

    def setsockopt(self, *args: Any) -> None:
        pass

    def shutdown(self, how: int) -> None:
        self.dropped = True


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


@lru_cache(maxsize=256)
def _server(scheme: str, netloc: str) -> tuple[str, str]:
    """(SERVER_NAME, SERVER_PORT) of a URL's scheme and authority."""
    url = urlsplit(f"{scheme}://{netloc}/")
    return url.hostname or "127.0.0.1", str(url.port or ("443" if scheme == "https" else "80"))


@lru_cache(maxsize=256)
def _environ_key(name: str) -> str | None:
    """The environ key of a request header (None: not passed, the body being whole already)."""
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
        return None
    return key if key == "CONTENT_TYPE" else f"HTTP_{key}"


def wsgi_environ(request: requests.PreparedRequest, body: bytes) -> dict[str, Any]:
    """The WSGI environ a server on the local computer would build for this request."""
    url = urlsplit(request.url or "/")
    scheme = url.scheme or "http"
    server_name, server_port = _server(scheme, url.netloc)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": (request.method or "GET").upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "QUERY_STRING": url.query,
        "REQUEST_URI": (url.path or "/") + (f"?{url.query}" if url.query else ""),  # raw, as waitress gives it
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": url.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    headers = request.headers
    lower_items = getattr(headers, "lower_items", None)  # requests' CaseInsensitiveDict: no per-key lookups
    for name, value in lower_items() if lower_items is not None else headers.items():
        key = _environ_key(name)
        if key is not None:
            environ[key] = value
    return environ


def call_wsgi(app: Callable[..., Iterable[bytes]], request: requests.PreparedRequest) -> Any:
    """Run one request through a WSGI app: (status, headers, body) for `responses`, or the
    ConnectionError a dropped connection gives."""
    sock = _Socket()
    environ = wsgi_environ(request, _body_bytes(request.body))
    environ[SOCKET_KEY] = sock
    started, body = run_app(app, environ)
    if environ.get(DROP_KEY) or sock.dropped or started is None:
        return requests.ConnectionError(f"{request.method} {request.url}: connection reset by peer (injected drop)")
    raised = environ.get(RAISE_KEY)
    if raised is not None:
        return raised
    status, headers, _ = started
    headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
    return int(status[:3]), headers, body
