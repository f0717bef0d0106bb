"""Ctrl-C and SIGTERM stop the command lines, wherever the signal lands.

A signal handler runs on the main thread between two bytecodes. The handler used to call
threading.Event.set while the main thread waited on that Event, and a signal landing while
Event.wait held the Event's own lock waited forever: `make run` then did not stop on SIGTERM."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mock_common.cli import StopFlag

ROOT = Path(__file__).resolve().parent.parent

# Waits on the flag in a tight loop (the main thread is inside `wait` nearly all the time), once per
# round; the parent sends one SIGTERM a round at a random moment.
CHILD = textwrap.dedent("""
    import sys
    from mock_common.cli import catch_stop_signals
    for _ in range(int(sys.argv[1])):
        stopping = catch_stop_signals()
        print("ready", flush=True)
        while not stopping.wait(0):
            pass
        print("stopped", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child is a POSIX signal")
def test_a_stop_signal_landing_anywhere_in_the_wait_is_noticed() -> None:
    rounds = 200  # the Event-based handler deadlocked within the first 2 rounds, on 3.10, 3.11 and 3.13
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(rounds)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    try:
        for n in range(rounds):
            assert proc.stdout.readline() == "ready\n"
            time.sleep(random.random() * 0.002)
            proc.send_signal(signal.SIGTERM)
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            assert ready, f"round {n}: the SIGTERM was not noticed in 10 s (the handler is stuck)"
            assert proc.stdout.readline() == "stopped\n"
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child is a POSIX signal")
def test_serve_stops_on_two_sigterms_at_once() -> None:
    """What `make run` gets from a process-group kill: make passes the SIGTERM on to its child,
    which so receives two."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker_mocks.cli", "serve", "--streamster-port", "0", "--instaforex-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("Press Ctrl-C"):
                break
        os.kill(proc.pid, signal.SIGTERM)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_stop_flag_waits_out_its_timeout_and_sees_a_set() -> None:
    flag = StopFlag()
    started = time.monotonic()
    assert flag.wait(0.1) is False and not flag.is_set()
    assert time.monotonic() - started >= 0.1
    flag.set()
    assert flag.is_set() and flag.wait(0) is True and flag.wait(5) is True
