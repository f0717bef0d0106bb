"""The wheel as a stranger installs it: run by tests/smoke/run.py in a fresh virtual environment
outside the checkout, from another folder (`make test-wheel`; CI runs it after the matrix).

Both command lines serve the packaged data, the launcher serves both emulators, the plugin's
fixtures work in a project with its own `client.py` under `pytest -W error` and its annotated tests
pass `mypy --strict` against the installed packages, a shipped cassette replays, a scenario typo is
refused with the one wording, and the conformance package names its extra.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
import requests
import user_project

BIN = Path(sys.executable).parent
GET_DESKS = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soap:Body/></soap:Envelope>"
)


@contextmanager
def serving(*command: str) -> Iterator[list[str]]:
    """Run a serving command until it prints "Press Ctrl-C to stop."; its banner lines."""
    proc = subprocess.Popen(
        [str(BIN / command[0]), *command[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        else:
            raise AssertionError(f"{command} ended: {lines} {proc.stderr.read() if proc.stderr else ''}")
        yield lines
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def url(lines: list[str], label: str) -> str:
    """The URL a banner line labelled `label` prints."""
    found = next(line for line in lines if line.strip().startswith(label))
    return found.split()[-1]


def desks(wsdl: str) -> set[str]:
    endpoint = wsdl.replace("/service.wsdl", "/endpoint")
    r = requests.post(endpoint, data=GET_DESKS, headers={"SOAPAction": '"GetDesks"', "Content-Type": "text/xml"})
    assert r.status_code == 200, r.text
    return set(re.findall(r"<(?:\w+:)?Name>([^<]+)</", r.text))


def token(base: str, login: int = 20000001, password: str = "demo-pass") -> requests.Response:
    return requests.post(
        f"{base}api/Authentication/RequestClientApiToken", json={"Login": login, "Password": password}, timeout=10
    )


def test_installed_from_the_wheel_outside_any_checkout() -> None:
    dist = metadata.distribution("broker-mocks")
    files = [str(f) for f in dist.files or []]
    tops = {f.split("/")[0] for f in files if not f.split("/")[0].endswith((".dist-info", ".data"))}
    tops.discard("..")  # console scripts
    assert tops == {"broker_mocks", "mock_common", "mock_streamster", "mock_instaforex"}, tops
    for name in (
        "broker_mocks/py.typed",
        "broker_mocks/client/streamster.py",
        "mock_common/schemas/scenario.schema.json",
        "mock_streamster/data/demo.yaml",
        "mock_streamster/data/day.yaml",
        "mock_streamster/data/day-ticks.csv",
        "mock_streamster/data/cassettes/streamster-client.yaml",
        "mock_instaforex/data/demo.yaml",
        "mock_instaforex/data/cassettes/instaforex-client.yaml",
        "mock_common/ui/dashboard.js",
    ):
        assert name in files, name
    import mock_streamster

    assert "site-packages" in mock_streamster.__file__
    assert not any(
        (Path(p or ".") / "mock_streamster" / "scenario.py").exists() for p in sys.path if "site-packages" not in p
    )


def test_every_command_has_a_version() -> None:
    for command in (["broker-mocks"], ["mock-streamster"], ["mock-instaforex"], ["mock-streamster", "serve"]):
        out = subprocess.run([str(BIN / command[0]), *command[1:], "--version"], capture_output=True, text=True)
        assert (
            out.returncode == 0
            and out.stdout.strip() == f"{command[0]} (broker-mocks) {metadata.version('broker-mocks')}"
        )
    out = subprocess.run([sys.executable, "-m", "broker_mocks", "--version"], capture_output=True, text=True)
    assert out.stdout.startswith("broker-mocks (broker-mocks) ")
    import broker_mocks

    assert broker_mocks.__version__ == metadata.version("broker-mocks")


def test_mock_streamster_serves_the_demo_scenario_and_the_day_by_name() -> None:
    with serving("mock-streamster", "serve", "--port", "0") as lines:
        assert "scenario demo (built-in)" in lines[0]
        assert "Live Forex" in desks(url(lines, "WSDL:"))
    with serving("mock-streamster", "serve", "--port", "0", "--scenario", "day", "--clock", "virtual") as lines:
        state = requests.get(url(lines, "control:") + "state", timeout=10).json()
        assert state["scenario"] == "day" and desks(url(lines, "WSDL:")) == {"Virtual Forex"}


def test_mock_instaforex_serves_the_demo_accounts() -> None:
    with serving("mock-instaforex", "serve", "--port", "0") as lines:
        base = url(lines, "base URL:")
        assert token(base).status_code == 200
        assert token(base, password="wrong").json() == "Access denied"
        journal = requests.get(base + "_mock/journal", timeout=10).json()
        assert journal[-1]["reason"] == "wrong password"


def test_the_launcher_serves_both_on_free_ports() -> None:
    with serving("broker-mocks", "serve", "--streamster-port", "0", "--instaforex-port", "0") as lines:
        assert "Live Forex" in desks(url(lines, "WSDL:"))
        assert token(url(lines, "base URL:")).status_code == 200
    with serving("broker-mocks", "--streamster-port", "0", "--instaforex-port", "0", "--clock", "virtual") as lines:
        assert "virtual clock" in lines[0]


def test_a_shipped_cassette_replays_by_name() -> None:
    with serving("mock-streamster", "replay", "--cassette", "streamster-client") as lines:
        base = url(lines, "base URL:")
        assert requests.get(base + "service.wsdl", timeout=10).status_code == 200
        body = (
            '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            '<soap:Body><Instrument xmlns="http://www.novativa.com/ws/streamsterapi">EUR/USD</Instrument></soap:Body>'
            "</soap:Envelope>"
        )
        r = requests.post(
            base + "endpoint", data=body, headers={"SOAPAction": '"GetQuote"', "Content-Type": "text/xml"}
        )
        assert r.status_code == 200 and "Bid" in r.text


def test_a_scenario_typo_is_refused_with_file_line_column_key_and_the_nearest_key(tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text('instruments:\n  - {name: EUR/USD, prise: "1.20000"}\n')
    out = subprocess.run(
        [str(BIN / "mock-streamster"), "serve", "--port", "0", "--scenario", "typo.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr == "mock-streamster: typo.yaml:2:21: instruments[0].prise: unknown key; did you mean 'price'?\n"


def test_the_schemas_print() -> None:
    for command, name in (
        ("mock-streamster", "scenario"),
        ("mock-instaforex", "accounts"),
        ("mock-streamster", "cassette"),
    ):
        out = subprocess.run([str(BIN / command), "schema", name], capture_output=True, text=True, check=True)
        assert json.loads(out.stdout)["$schema"].startswith("https://json-schema.org/")


def test_a_bot_project_with_its_own_client_py_passes_under_w_error(tmp_path: Path) -> None:
    project = user_project.write(tmp_path / "bot")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error"], cwd=project, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_bot_projects_annotated_tests_type_check_against_the_installed_wheel(tmp_path: Path) -> None:
    project = user_project.write(tmp_path / "bot")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "MYPY"))}
    typed = user_project.type_check(project, "test_typed.py", env=env)
    assert typed.returncode == 0, typed.stdout + typed.stderr
    typos = user_project.type_check(project, "typo_check.py", env=env)
    assert user_project.reported(typos) == list(user_project.TYPOS), typos.stdout + typos.stderr


def test_the_conformance_package_names_its_extra() -> None:
    out = subprocess.run([sys.executable, "-c", "import broker_mocks.conformance"], capture_output=True, text=True)
    if out.returncode == 0:
        pytest.skip("Hypothesis is installed here")
    assert "pip install 'broker-mocks[conformance]'" in out.stderr
