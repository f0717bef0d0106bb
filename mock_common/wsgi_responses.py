"""One `responses` registration that answers every method under a set of base URLs from a function.

The in-process routes (the plugin's `*_responses` fixtures, in-process replay) register this in place of
one `add_callback` per method and base URL: `responses` then tests one pattern per request instead of
a dozen, and the answer becomes urllib3's response directly (what `CallbackResponse` does through a
header dictionary it builds and merges for every call). The answer is made anew for every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from http.client import responses as reasons
from io import BytesIO
from typing import Any

import requests
from responses import BaseResponse
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# (status, headers, body) as a WSGI app or a cassette gives it, or the exception the call raises.
Answer = Callable[[requests.PreparedRequest], Any]


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
