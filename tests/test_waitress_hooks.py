"""mock_common/server.py extends waitress's private classes (the 503s over the limits, the drop fault,
errors in the emulator's format). pyproject.toml pins waitress to the major version they were written
against; if a release still changes one of those hooks, this test names it instead of the server
failing somewhere else."""

from __future__ import annotations

import http.client
import inspect
from importlib.metadata import version
from typing import Any

import pytest
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from mock_common.server import CHANNEL_KEY, TASK_KEY, WSGIServer

WAITRESS = version("waitress")

# (owner, attribute, the parameters mock_common/server.py passes or overrides, None when it only reads it)
CLASS_HOOKS: list[tuple[Any, str, tuple[str, ...] | None]] = [
    (wasyncore, "loop", ("timeout", "use_poll", "map", "count")),
    (wasyncore, "close_all", ("map",)),
    (wasyncore, "dispatcher", ("sock", "map")),
    (HTTPChannel, "task_class", None),
    (HTTPChannel, "error_task_class", None),
    (HTTPChannel, "handle_read", ()),
    (HTTPChannel, "handle_write", ()),
    (HTTPChannel, "handle_close", ()),
    (HTTPChannel, "service", ()),
    (
        TcpWSGIServer,
        "__init__",
        ("application", "map", "_start", "_sock", "dispatcher", "adj", "sockinfo", "bind_socket"),
    ),
    (TcpWSGIServer, "channel_class", None),
    (TcpWSGIServer, "pull_trigger", ()),
    (TcpWSGIServer, "readable", ()),
    (TcpWSGIServer, "maintenance", ("now",)),
    (TcpWSGIServer, "handle_accept", ()),
    (TcpWSGIServer, "accept", ()),
    (TcpWSGIServer, "add_task", ("task",)),
    (TcpWSGIServer, "del_channel", ()),
    (TcpWSGIServer, "accept_connections", ()),
    (ThreadedTaskDispatcher, "start_new_thread", ("target", "thread_no")),
    (ThreadedTaskDispatcher, "set_thread_count", ("count",)),
    (ThreadedTaskDispatcher, "shutdown", ("cancel_pending", "timeout")),
    (WSGITask, "get_environment", ()),
    (WSGITask, "service", ()),
    (WSGITask, "set_close_on_finish", ()),
    (WSGITask, "write", ("data",)),
    (WSGITask, "build_response_header", ()),
    (WSGITask, "has_body", None),
    (ErrorTask, "execute", ()),
    (Error, "to_response", ("ident",)),
]


@pytest.mark.parametrize("owner, name, params", CLASS_HOOKS, ids=[f"{o.__name__}.{n}" for o, n, _ in CLASS_HOOKS])
def test_each_waitress_class_hook_the_server_extends_is_still_there(owner: Any, name: str, params: Any) -> None:
    hook = f"{owner.__name__}.{name}"
    assert hasattr(owner, name), f"waitress {WAITRESS} has no {hook}, which mock_common/server.py extends"
    if params is None:
        return
    signature = inspect.signature(getattr(owner, name))
    missing = [p for p in params if p not in signature.parameters]
    assert not missing, f"waitress {WAITRESS} changed {hook}{signature}: mock_common/server.py passes {missing}"


def test_each_waitress_attribute_the_server_reads_is_still_there() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["channel"], seen["task"] = environ.get(CHANNEL_KEY), environ.get(TASK_KEY)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = WSGIServer(app, "127.0.0.1", 0, threads=1, name="hooks")
    server.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ok"
        conn.close()
    finally:
        server.stop()
    wanted = {
        "the server (waitress.server.TcpWSGIServer)": (server._server, (
            "active_channels", "next_channel_cleanup", "adj", "task_dispatcher", "accepting", "_map",
        )),
        "the server's Adjustments": (server._server.adj, ("cleanup_interval", "connection_limit", "threads")),
        "the task dispatcher (waitress.task.ThreadedTaskDispatcher)": (
            server._server.task_dispatcher, ("queue", "lock"),
        ),
        "a channel (waitress.channel.HTTPChannel)": (seen["channel"], (
            "socket", "connected", "server", "requests", "requests_lock", "outbuf_lock", "outbufs",
            "total_outbufs_len", "close_when_flushed",
        )),
        "a task (waitress.task.WSGITask)": (seen["task"], (
            "environ", "request", "channel", "wrote_header", "complete", "content_length", "content_bytes_written",
            "chunked_response",
        )),
        "a request (waitress.parser.HTTPRequestParser)": (seen["task"].request, ("command", "path", "error")),
    }  # fmt: skip
    for what, (obj, names) in wanted.items():
        assert obj is not None, f"waitress {WAITRESS}: the environ no longer carries {what}"
        missing = [n for n in names if not hasattr(obj, n)]
        assert not missing, f"waitress {WAITRESS}: {what} has no {missing}, which mock_common/server.py reads"
    assert isinstance(seen["channel"].outbufs, list) and hasattr(seen["channel"].outbufs[-1], "append"), (
        f"waitress {WAITRESS}: HTTPChannel.outbufs is no longer a list of buffers mock_common/server.py appends to"
    )
    assert seen["task"].environ is None or TASK_KEY not in seen["task"].environ  # parted after the request
