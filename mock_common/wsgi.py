"""Running a WSGI application to the end in one call: the call pipeline's call into Flask (its reply
is journaled, and the state committed, before it goes out) and the in-process routes need the whole
reply before they answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Started = tuple[str, list[tuple[str, str]], Any]  # status, headers, exc_info


def run_app(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[Started | None, bytes]:
    """Call `app` and read its whole body: (status, headers, exc_info), or None when it started no
    response, and the body; the result's close() is called, as a server would."""
    started: list[Started] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [(status, headers, exc_info)]
        return lambda data: None  # our applications return their body

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (started[0] if started else None), body
