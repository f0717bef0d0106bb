"""One secret rule, one function (issue 19, item 11): the dashboard, the failure report and the cassette
scrubber mask on the parsed body; no import circle in the recording package (issue 18.3)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import requests

from mock_common import pytest_plugin as common
from mock_common.masking import is_secret_field, mask, mask_target
from mock_common.recording import RecorderServer, RecordingSession
from mock_common.recording.scrub import Scrubber
from mock_instaforex import InstaForexMock
from mock_instaforex.recording import PROFILE as INSTAFOREX
from mock_streamster import StreamsterMock
from mock_streamster.recording import PROFILE as STREAMSTER

ROOT = Path(__file__).resolve().parent.parent
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.novativa.com/ws/streamsterapi"


def _soap(action: str, body: str) -> tuple[bytes, dict[str, str]]:
    xml = f'<s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    return xml.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


# ----------------------------------------------------------------------------- 11: masking on the parsed body


@pytest.mark.parametrize(
    "body",
    [
        '{"Login": 20000001, "Pass\\u0077ord": "demo-pass"}',
        '{"login": 20000001, "PASSWORD": "demo-pass"}',
        '{"Login": 20000001, "api_password": "demo-pass"}',
        "Login=20000001&Password=demo-pass",
        "Login=20000001&pass%77ord=demo-pass",
        '{"Login": 20000001, "Password": "demo-pa',  # cut short: read token by token
        f'<s:Envelope xmlns:s="{ENV}"><s:Body><Login><m:Password xmlns:m="x">demo-pass</m:Password></Login>'
        "</s:Body></s:Envelope>",
        "<Login><Password><![CDATA[demo-pass]]></Password>",  # malformed XML
        '<Login password="demo-pass"/>',
    ],
)
def test_mask_finds_secret_fields_in_any_spelling_and_format(body: str) -> None:
    masked = mask(body)
    assert masked is not None and "demo-pa" not in masked and "•••" in masked
    assert ("20000001" in masked) == ("20000001" in body)  # the rest stays


def test_mask_keeps_what_is_not_secret() -> None:
    for text in ('{"Balance": 1.50, "Comment": "password"}', "plain text", '"0123456789abcdef"', "<a>pass</a>"):
        assert mask(text) == text
    assert is_secret_field("API-Password") and is_secret_field("passkey") and not is_secret_field("passage")
    assert mask_target("/x?login=1&Password=s3cret&b=2") == "/x?login=1&Password=•••&b=2"


def test_the_dashboard_masks_passwords_on_the_parsed_body(instaforex_mock: InstaForexMock) -> None:
    url = instaforex_mock.url + "api/Authentication/RequestClientApiToken"
    escaped = b'{"Login": 20000001, "Pass\\u0077ord": "demo-pass"}'
    r = requests.post(url, data=escaped, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200  # the token is issued: the emulator read the key as Password
    requests.post(url, data="Login=20000001&Password=demo-pass", timeout=10,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    requests.get(instaforex_mock.url + "client/RequestBalanceInformation/20000001?password=url-secret", timeout=10)
    page = requests.get(instaforex_mock.url + "_mock/ui/data", timeout=10).json()
    shown = json.dumps(page["journal"], ensure_ascii=False)
    assert "demo-pass" not in shown and "url-secret" not in shown and shown.count("•••") >= 3
    assert r.json()[:6] in shown and r.json() not in shown  # the issued token: its start only


def test_the_streamster_dashboard_masks_a_soap_password_element(streamster_mock: StreamsterMock) -> None:
    body, headers = _soap("GetQuote", f'<GetQuote xmlns="{NS}"><Instrument>EUR/USD</Instrument>'
                                      "<Password>soap-secret</Password></GetQuote>")  # fmt: skip
    requests.post(streamster_mock.endpoint_url, data=body, headers=headers, timeout=10)
    shown = json.dumps(
        requests.get(streamster_mock.url + "/_mock/ui/data", timeout=10).json()["journal"], ensure_ascii=False
    )
    assert "soap-secret" not in shown and "•••" in shown


def test_the_failure_report_masks_secrets(streamster_mock: StreamsterMock, instaforex_mock: InstaForexMock) -> None:
    body, headers = _soap("GetQuote", f'<GetQuote xmlns="{NS}"><Password>soap-secret</Password></GetQuote>')
    requests.post(streamster_mock.endpoint_url, data=body, headers=headers, timeout=10)
    text = common.describe("StreamsterMock()", 0, "now", "virtual", streamster_mock.journal, 20)
    assert "soap-secret" not in text and "•••" in text
    requests.get(instaforex_mock.url + "client/RequestBalanceInformation/20000001?Password=url-secret", timeout=10)
    text = common.describe("InstaForexMock()", 0, "now", "virtual", instaforex_mock.journal, 20)
    assert "url-secret" not in text and "Password=•••" in text


def test_the_scrubber_uses_the_same_rule_numbers_forms_and_escapes_included(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    with InstaForexMock() as mock:
        session = RecordingSession(INSTAFOREX, path, "all", upstream=mock.url)
        with RecorderServer(session) as rec:
            token = rec.url + "api/Authentication/RequestClientApiToken"
            json_headers = {"Content-Type": "application/json"}
            # 20000002 is an open-level account: any password, a number included, gets a token
            assert requests.post(token, data=b'{"Login": 20000002, "Password": 7654321}', headers=json_headers,
                                 timeout=10).status_code == 200  # fmt: skip
            requests.post(token, data=b'{"Login": 20000001, "Pass\\u0077ord": "demo-pass"}', headers=json_headers,
                          timeout=10)  # fmt: skip
            requests.post(token, data="Login=20000001&Password=demo-pass", timeout=10,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert session.refused == [] and session.recorded == 3
    text = path.read_text()
    assert "7654321" not in text and "demo-pass" not in text and "20000001" not in text
    assert "Password=SCRUBBED" in text and '"Password": "SCRUBBED"' in text
    # and it replays: a scrubbed password (JSON or form) matches any password
    with RecorderServer(RecordingSession(INSTAFOREX, path, "none", exhausted="error")) as rep:
        r = requests.post(rep.url + "api/Authentication/RequestClientApiToken", data="Login=20000001&Password=other",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)  # fmt: skip
        assert r.status_code != 404 and rep.session.engine.misses == [], r.text


def test_the_scrubber_and_the_masks_share_one_rule() -> None:
    scrubber = Scrubber(STREAMSTER)
    body = f'<s:Envelope xmlns:s="{ENV}"><s:Body><Login><ApiPassword>soap-secret</ApiPassword></Login></s:Body>'
    from mock_common.recording.cassette import Request

    clean = scrubber.request(Request("POST", "/endpoint?passkey=abcdef", {}, body + "</s:Envelope>"))
    assert "soap-secret" not in clean.body and "SCRUBBED" in clean.body and clean.url == "/endpoint?passkey=SCRUBBED"


# ----------------------------------------------------------------------------- 18.3: no import circle


def test_no_import_circle_in_the_recording_package_type_checking_imports_included() -> None:
    folder = ROOT / "mock_common" / "recording"
    graph: dict[str, set[str]] = {}
    for file in folder.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        graph[file.stem] = found

    def reaches(start: str, node: str, seen: set[str]) -> bool:
        for nxt in graph.get(node, ()):
            if nxt == start or (nxt not in seen and (seen.add(nxt) or reaches(start, nxt, seen))):
                return True
        return False

    assert [m for m in graph if reaches(m, m, set())] == []
