"""The in-process servers: every thread they start ends with stop(), and a server nobody stopped
never keeps the interpreter from exiting (pytest would hang after printing its summary)."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

ROOT = Path(__file__).resolve().parent.parent
FORGOTTEN = """
import logging, urllib.request
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock
s, i = StreamsterMock().start(), InstaForexMock().start()
for url in (s.wsdl_url, i.url + "openapi.json"):
    assert urllib.request.urlopen(url, timeout=10).status == 200
print("serving; leaving without stop()", flush=True)
"""


def test_a_server_left_running_does_not_keep_the_interpreter_alive() -> None:
    done = subprocess.run([sys.executable, "-c", FORGOTTEN], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "serving; leaving without stop()" in done.stdout


def test_stop_ends_every_thread_the_server_started() -> None:
    before = set(threading.enumerate())
    with StreamsterMock() as s, InstaForexMock() as i:
        urllib.request.urlopen(s.wsdl_url, timeout=10).read()
        urllib.request.urlopen(i.url + "openapi.json", timeout=10).read()
        started = set(threading.enumerate()) - before
        assert len(started) >= 2 * 17  # per server: the serving thread and 16 workers
        assert all(t.daemon for t in started), sorted(t.name for t in started if not t.daemon)
    for t in started:
        t.join(timeout=10)
    assert [t.name for t in started if t.is_alive()] == []


def test_the_suite_fails_when_a_test_leaves_a_server_running(tmp_path: Path) -> None:
    # A throwaway suite with this suite's hooks: its only test starts an emulator and never stops it.
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_leak.py").write_text(
        "from mock_streamster import StreamsterMock\n\ndef test_forgets_to_stop():\n    StreamsterMock().start()\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "1 passed" in done.stdout, done.stdout
    assert "THREADS LEFT RUNNING AFTER THE LAST TEST" in done.stdout and "mock-streamster-" in done.stdout
    assert done.returncode == 1


def test_stop_after_the_event_loop_ended_writes_to_no_closed_descriptor() -> None:
    # The loop can see the stop flag (its poll times out every second) and close the trigger's pipe
    # before stop() wakes it: stop() must not write to the closed, possibly reused, descriptor.
    from mock_common.server import WSGIServer

    def app(environ: dict, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"ok"]

    server = WSGIServer(app, "127.0.0.1", 0, threads=1, name="race")
    server.start()
    assert urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=10).read() == b"ok"
    server._stopping.set()  # what stop() does first; the loop ends on its next poll timeout
    assert server._thread is not None
    server._thread.join(timeout=10)
    assert not server._thread.is_alive()
    server.stop()  # used to raise OSError: [Errno 9] Bad file descriptor
