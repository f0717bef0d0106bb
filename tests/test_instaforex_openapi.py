"""/openapi.json is true: every route is in it, and schemathesis with every check finds no 5xx, nothing
undocumented, no schema-valid request rejected and no schema-violating request accepted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mock_instaforex import InstaForexMock
from mock_instaforex.formats import DATE_PATTERN, LOGIN_TEXT_PATTERN, is_date_text

from .ifxutil import Api

CHECKS = "all"  # positive_data_acceptance and negative_data_rejection included: the document is exact


def test_every_flask_route_is_documented_with_its_parameters(instaforex_mock: InstaForexMock) -> None:
    doc = Api(instaforex_mock.url).openapi.spec
    documented = {(re.sub(r"\{[^}]+\}", "{}", p).lower(), m) for p, ops in doc["paths"].items() for m in ops}
    served = set()
    for rule in instaforex_mock.app.url_map.iter_rules():
        if rule.rule.startswith(("/_mock", "/static")):
            continue
        path = re.sub(r"<[^>]+>", "{}", rule.rule).lower()
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    assert served == documented
    for path, ops in doc["paths"].items():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"\{([^}]+)\}", path)), path
            if op["operationId"] != "OpenApi":
                assert {"200", "default"} <= set(op["responses"])


def test_the_document_publishes_the_grammar_the_server_checks(instaforex_mock: InstaForexMock) -> None:
    doc = Api(instaforex_mock.url).openapi.spec
    login = doc["components"]["schemas"]["TokenRequest"]["properties"]["Login"]["oneOf"]
    assert login[0] == {"type": "integer", "minimum": 1, "maximum": 2147483647}
    assert login[1]["pattern"] == LOGIN_TEXT_PATTERN
    closed = doc["paths"]["/client/RequestClosedTrades/{login}"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in closed if p["in"] == "query"} == {
        "from": DATE_PATTERN,
        "to": DATE_PATTERN,
    }
    referral = doc["paths"]["/partner/CheckReferral/{login}/{client}"]["get"]["parameters"]
    for p in referral[:2]:
        assert p["in"] == "path" and p["schema"]["minimum"] == 1 and p["schema"]["maximum"] == 2147483647, p
    for text in ("2024-02-29", "1700000000", "9998-12-31T23:59:59-14:00", "", "2024-03-05 14:22:10.5Z"):
        assert re.search(DATE_PATTERN, text) and is_date_text(text), text
    for text in ("2023-02-29", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00-14:00", "-1", "2024-01-01\n"):
        assert not is_date_text(text), text


def test_schemathesis_with_every_check_finds_no_difference_between_document_and_server(tmp_path: Path) -> None:
    with InstaForexMock() as m:
        key = Api(m.url).passkey("client", 20000001)
        st = Path(sys.executable).with_name("st")
        run = subprocess.run(
            [str(st), "run", m.url + "openapi.json", "--checks", CHECKS, "--max-examples", "8", "--seed", "1",
             "--header", f"passkey: {key}", "--no-color", "--phases", "coverage,fuzzing",
             "--suppress-health-check", "all", "--workers", "1"],
            capture_output=True, text=True, timeout=170, cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert re.search(r"\d+ passed", run.stdout), run.stdout[-2000:]
        assert m.journal.total > 100  # it really exercised the server
