"""The control plane cannot be driven or read from a web page, on both emulators (mock_common/guard.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mock_common.guard import loopback_host
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock
from mock_streamster.wire import StreamsterHttp, endpoint_address

SECRET = "root:$6$K1ll3rHash$abcdefgh:19000:0:99999:7:::"
FILES = {  # every way a file can fail to be an accounts or scenario file
    "shadow": f"{SECRET}\ndaemon:*:19000:0:99999:7:::\n",
    "scalar.yaml": f"{SECRET}\n",
    "list.yaml": f"- {SECRET}\n",
    "broken.yaml": f"seed: [{SECRET}\n",
    "broken.json": f'{{"seed": "{SECRET}" ',
    "nested.yaml": f'accounts:\n  - login: 20000090\n    name: x\n    level: "{SECRET}"\n',
    "deep.json": "[" * 30_000 + "]" * 30_000,
}


def _base(mock: Any) -> str:
    return mock.url.rstrip("/") + "/"


@pytest.fixture(params=["streamster", "instaforex"])
def emulator(request: pytest.FixtureRequest, streamster_mock: StreamsterMock, instaforex_mock: InstaForexMock) -> Any:
    return streamster_mock if request.param == "streamster" else instaforex_mock


def _clock(emulator: Any) -> str:
    return str(requests.get(_base(emulator) + "_mock/state", timeout=10).json()["now"])


@pytest.mark.parametrize(
    "headers, body",
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"seconds=3600"),  # an HTML form
        ({"Content-Type": "text/plain"}, b'{"seconds": 3600}'),  # fetch(..., {mode: "no-cors"})
        ({"Content-Type": "multipart/form-data; boundary=x"}, b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'),
        ({}, b""),  # a bodiless POST carries no content type
    ],
    ids=["form", "text-plain", "multipart", "none"],
)  # fmt: skip
def test_a_control_write_that_is_not_json_is_refused_and_changes_nothing(
    emulator: Any, headers: dict[str, str], body: bytes
) -> None:
    before = _clock(emulator)
    for route in ("advance", "reset"):
        r = requests.post(_base(emulator) + f"_mock/{route}", data=body, headers=headers, timeout=10)
        assert r.status_code == 415 and "application/json" in r.json()["error"], (route, r.text)
    assert _clock(emulator) == before
    r = requests.post(_base(emulator) + "_mock/advance", json={"seconds": 60}, timeout=10)
    assert r.status_code == 200 and _clock(emulator) != before  # JSON is still served


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8018", "127.0.0.1.nip.io", "10.0.0.7", "[::2]:80",
                                  "localhost:99999", '127.0.0.1"><x'])  # fmt: skip
def test_a_control_request_for_another_host_is_refused_dns_rebinding(emulator: Any, host: str) -> None:
    before = _clock(emulator)
    for method, route in (("GET", "state"), ("GET", "journal"), ("POST", "advance")):
        r = requests.request(
            method, _base(emulator) + f"_mock/{route}", json={"seconds": 60}, headers={"Host": host}, timeout=10
        )
        assert r.status_code == 403 and "Host" in r.json()["error"], (host, route, r.text)
    assert _clock(emulator) == before


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}",
                                  "app.localhost"])  # fmt: skip
def test_a_control_request_for_a_loopback_host_is_served(emulator: Any, host: str) -> None:
    r = requests.get(_base(emulator) + "_mock/state", headers={"Host": host.format(port=emulator.port)}, timeout=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", sorted(FILES))
def test_loading_a_file_that_is_not_valid_names_it_and_where_but_never_quotes_it(
    emulator: Any, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(FILES[name])
    is_streamster = isinstance(emulator, StreamsterMock)
    route = "scenario" if is_streamster else "accounts"
    r = requests.post(_base(emulator) + f"_mock/{route}", json={"path": str(path)}, timeout=10)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error.startswith(f"{path}:") or error.startswith(f"{path} "), error  # the file, in the one wording
    assert "K1ll3r" not in r.text and "daemon" not in r.text and "19000" not in r.text, error
    if name.startswith("broken"):
        assert re.match(rf"{re.escape(str(path))}:\d+:\d+: not valid (YAML|JSON)$", error), error  # where, not what
    if name == "nested.yaml" and not is_streamster:
        assert error == f"{path}:4:12: accounts[0].level: must be one of open, password, ip", error


def test_an_unreadable_path_says_so(emulator: Any, tmp_path: Path) -> None:
    route = "scenario" if isinstance(emulator, StreamsterMock) else "accounts"
    r = requests.post(_base(emulator) + f"_mock/{route}", json={"path": str(tmp_path / "nothing")}, timeout=10)
    what = "scenario file" if route == "scenario" else "accounts file"
    assert (
        r.status_code == 400
        and r.json()["error"] == f"{tmp_path / 'nothing'}: cannot read this {what}: No such file or directory"
    )


@pytest.mark.parametrize(
    "host, expected",
    [("127.0.0.1:9000", "127.0.0.1:9000"), ("localhost:9000", "localhost:9000"), ("[::1]:9000", "[::1]:9000"),
     ("evil.example:9000", "127.0.0.1:8018"), ('127.0.0.1"/><soap:address location="http://evil', "127.0.0.1:8018"),
     ("10.1.2.3:8018", "127.0.0.1:8018"), ("", "127.0.0.1:8018")],
)  # fmt: skip
def test_the_wsdl_address_of_a_wildcard_bind_carries_only_a_loopback_host(
    streamster_mock: StreamsterMock, host: str, expected: str
) -> None:
    app = StreamsterHttp(streamster_mock.controller, endpoint_address("0.0.0.0", 8018))
    environ = EnvironBuilder(path="/service.wsdl").get_environ()
    environ.update(REMOTE_ADDR="127.0.0.1", HTTP_HOST=host)  # as sent, which a test client would rewrite
    body, status, _ = run_wsgi_app(app, environ)
    wsdl = b"".join(body).decode()
    assert status.startswith("200")
    assert f'location="http://{expected}/endpoint"' in wsdl, wsdl[-600:]
    assert "evil" not in wsdl and wsdl.count("location=") == 1


def test_loopback_host_accepts_only_this_computer() -> None:
    assert loopback_host("127.0.0.1:8018") == "127.0.0.1:8018"
    assert loopback_host("[::1]") == "[::1]"
    assert loopback_host("Localhost.") == "localhost"
    for host in ("", "127.0.0.1:", "127.0.0.1:x", "::1:80x", "localhost:0", "evil.localhost.example", "0.0.0.0"):
        assert loopback_host(host) is None, host
