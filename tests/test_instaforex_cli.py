"""`mock-instaforex serve` and `mock-instaforex generate`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import requests
import yaml

from mock_instaforex.cli import main
from mock_instaforex.store import Store


def test_serve_prints_the_base_url_and_demo_logins_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mock_instaforex.cli", "serve", "--port", "0", "--clock", "virtual"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    text = "".join(lines)
    try:
        url = re.search(r"base URL: (\S+)", text).group(1)  # type: ignore[union-attr]
        assert "20000001 / demo-pass" in text and "30000001 / demo-partner" in text and "20000003 / demo-ip" in text
        r = requests.post(
            url + "api/Authentication/RequestClientApiToken",
            json={"Login": 20000001, "Password": "demo-pass"},
            timeout=10,
        )
        assert r.status_code == 200 and r.headers["Server"] == "mock-instaforex"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_generate_prints_a_consistent_seeded_store(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["generate", "--seed", "3", "--accounts", "60"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", "--seed", "3", "--accounts", "60"]) == 0
    assert capsys.readouterr().out == first
    store = Store.from_data(yaml.safe_load(first), datetime(2026, 1, 1))
    assert len(store.accounts) == 60 and len(store.partners) == 2


def test_serve_loads_an_accounts_file_and_refuses_a_bad_one(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [{login: 1, level: ip}]\n")
    assert main(["serve", "--port", "0", "--accounts", str(bad)]) == 2
    assert "level ip needs ip_password and ip_mask" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--trusted-proxy", "not-a-net"]) == 2
