"""`mock-streamster serve`: prints its URLs, serves with waitress, stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from mock_streamster.cli import main
from mock_streamster.data import SCENARIOS

DEMO = SCENARIOS.path("demo")


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_streamster.cli", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+(WSDL|endpoint|control):\s+(\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
        if line.startswith("Press Ctrl-C"):
            break
    return proc, urls


def test_serve_prints_urls_serves_and_stops_on_ctrl_c() -> None:
    proc, urls = _start("--port", "0", "--seed", "3", "--clock", "virtual", "--scenario", str(DEMO))
    try:
        port = int(urls["WSDL"].rsplit(":", 1)[1].split("/")[0])
        assert port != 0 and urls["WSDL"] == f"http://127.0.0.1:{port}/service.wsdl"
        assert urls["endpoint"] == f"http://127.0.0.1:{port}/endpoint"
        r = requests.get(urls["WSDL"], timeout=10)
        assert r.status_code == 200 and f'location="{urls["endpoint"]}"' in r.text
        assert r.headers["Server"] == "mock-streamster"  # waitress, the production server
        assert requests.get(urls["control"] + "state", timeout=10).json()["seed"] == 3
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    with socket.socket() as s:  # the port was released (nothing listens; TIME_WAIT aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)


def test_serve_stops_on_sigterm_too() -> None:
    proc, urls = _start("--port", "0")
    assert "WSDL" in urls
    proc.terminate()
    assert proc.wait(timeout=15) == 0


def test_bad_scenario_exits_with_a_clear_message(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("desks: 3\n")
    assert main(["serve", "--port", "0", "--scenario", str(bad)]) == 2
    assert capsys.readouterr().err == f"mock-streamster: {bad}:1:8: desks: must be a list, not a whole number\n"


def test_port_in_use_exits_with_a_clear_message(capsys) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        assert main(["serve", "--port", str(s.getsockname()[1])]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_non_loopback_bind_prints_a_warning() -> None:
    proc, urls = _start("--host", "0.0.0.0", "--port", "0")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0
    assert proc.stderr is not None and "refused" in proc.stderr.read()
