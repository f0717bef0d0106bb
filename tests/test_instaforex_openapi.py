"""/openapi.json is true: every route is in it, and schemathesis finds no 5xx and nothing undocumented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mock_instaforex import InstaForexMock

from .ifxutil import Api

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


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


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(tmp_path: Path) -> None:
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
