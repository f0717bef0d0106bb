"""User files checked strictly, with one wording everywhere (issue 17, item 4): scenarios, account
stores, cassette headers; the shipped JSON Schemas the loaders check them with; the same message from
the command line, the control plane, the Python API (and the markers: tests/test_plugin.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from mock_common import schemas
from mock_common.files import MAX_VALUES, UserFileError, keypath, parse_keypath, read_document
from mock_common.recording.cassette import CassetteError, loads
from mock_instaforex import InstaForexMock, StoreError
from mock_instaforex.cli import main as instaforex_main
from mock_instaforex.data import ACCOUNTS
from mock_instaforex.data import CASSETTES as INSTAFOREX_CASSETTES
from mock_streamster import ScenarioError, StreamsterMock, load_scenario
from mock_streamster.cli import main as streamster_main
from mock_streamster.data import CASSETTES, SCENARIOS

TYPO = 'instruments:\n  - {name: EUR/USD, prise: "1.20000"}\n'
TYPO_MESSAGE = "instruments[0].prise: unknown key; did you mean 'price'?"


def test_the_schemas_are_valid_json_schemas_and_load_returns_a_copy() -> None:
    for name in schemas.NAMES:
        schema = schemas.load(name)
        Draft202012Validator.check_schema(schema)
        schema["title"] = "changed"
        assert schemas.load(name)["title"] != "changed"
    with pytest.raises(
        ValueError, match="there is no schema 'scenarios'; the schemas are scenario, accounts, cassette"
    ):
        schemas.load("scenarios")


def test_the_shipped_data_passes_the_shipped_schemas() -> None:
    validator = Draft202012Validator(schemas.load("scenario"))
    for name in SCENARIOS.names():
        data = yaml.safe_load(SCENARIOS.path(name).read_text())
        data["start"] = str(data.get("start", ""))  # a YAML date is text to an editor
        assert not list(validator.iter_errors({k: v for k, v in data.items() if v != ""})), name
    assert not list(
        Draft202012Validator(schemas.load("accounts")).iter_errors(yaml.safe_load(ACCOUNTS.path("demo").read_text()))
    )
    cassette = Draft202012Validator(schemas.load("cassette"))
    for path in (*(CASSETTES.path(n) for n in CASSETTES.names()), INSTAFOREX_CASSETTES.path("instaforex-client")):
        assert not list(cassette.iter_errors(yaml.safe_load(path.read_text()))), path


@pytest.mark.parametrize(
    "command, name", [("streamster", "scenario"), ("instaforex", "accounts"), ("streamster", "cassette")]
)
def test_schema_commands_print_the_shipped_schemas(command: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    main = streamster_main if command == "streamster" else instaforex_main
    assert main(["schema", name]) == 0
    assert json.loads(capsys.readouterr().out) == schemas.load(name)


def test_one_message_from_the_command_line_the_control_plane_and_python(
    tmp_path: Path, streamster_mock: StreamsterMock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "day.yaml"
    path.write_text(TYPO)
    expected = f"{path}:2:21: {TYPO_MESSAGE}"
    assert streamster_main(["serve", "--port", "0", "--scenario", str(path)]) == 2
    assert capsys.readouterr().err == f"mock-streamster: {expected}\n"
    with pytest.raises(ScenarioError) as info:
        StreamsterMock(scenario=path)
    assert str(info.value) == expected
    r = requests.post(streamster_mock.url + "/_mock/scenario", json={"path": str(path)}, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": expected}
    r = requests.post(streamster_mock.url + "/_mock/scenario", json={"scenario": yaml.safe_load(TYPO)}, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": f"scenario: {TYPO_MESSAGE}"}
    with pytest.raises(ScenarioError) as info:
        StreamsterMock(scenario=yaml.safe_load(TYPO))
    assert str(info.value) == f"inline scenario: {TYPO_MESSAGE}"
    assert streamster_mock.platform.scenario.source is None  # nothing changed


def test_the_control_plane_quotes_no_value_and_no_unknown_key_of_a_file(
    tmp_path: Path, streamster_mock: StreamsterMock
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("instruments:\n  - {name: EUR/USD, digits: 11}\nhidden_columns: {Orders: [s3cr3t]}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:2:29: instruments[0].digits: must be at most 10, not 11"
    r = requests.post(streamster_mock.url + "/_mock/scenario", json={"path": str(path)}, timeout=10)
    assert r.json() == {"error": f"{path}:2:29: instruments[0].digits: must be at most 10"}
    path.write_text("s3cr3t-key: 1\n")
    r = requests.post(streamster_mock.url + "/_mock/scenario", json={"path": str(path)}, timeout=10)
    assert "s3cr3t" not in r.text and r.json()["error"].startswith(f"{path}:1:1: […]: unknown key; the keys are start")


def test_json_files_are_placed_by_line_and_column_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n\t"seed": 1,\n\t"instruments": [{"name": "EUR/USD",\n\t\t"prise": "1.2"}]\n}\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:4:3: {TYPO_MESSAGE}"
    path.write_text('{"seed": 1,}')
    with pytest.raises(ScenarioError, match=r"s\.json:1:1[12]: not valid JSON: "):  # the json module's words vary
        load_scenario(path)


def test_yaml_dates_numbers_and_an_empty_file_are_what_they_were(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("start: 2025-03-03T08:00:00\ntick_interval: 2.5\ninstruments: [{name: EUR/USD, price: 1.2}]\n")
    scenario = load_scenario(path)
    assert scenario.start is not None and scenario.start.isoformat() == "2025-03-03T08:00:00"
    assert scenario.tick_interval == 2.5
    path.write_text("")
    assert load_scenario(path).seed is None  # an empty file is the default scenario


def test_a_file_too_big_or_aliased_too_often_is_refused_before_it_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    rows = ["a: &a [" + ", ".join(["x"] * 100) + "]"]
    previous = "a"
    for level in range(1, 6):  # 100 ** 5 values once expanded, a few hundred bytes on disk
        rows.append(f"l{level}: &l{level} [" + ", ".join([f"*{previous}"] * 100) + "]")
        previous = f"l{level}"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ScenarioError, match=f"at most {MAX_VALUES:,} values once its aliases are expanded"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read this scenario file"):
        load_scenario(tmp_path)  # a folder
    with pytest.raises(StoreError, match=r"/dev/zero: a accounts file may hold at most 64 MiB|not valid"):
        read_document("/dev/zero", "accounts file", StoreError)


def test_account_stores_are_checked_by_schema_and_by_rule(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    cases = {
        "accounts:\n  - login: 1\n    level: pasword\n": "a.yaml:3:12: accounts[0].level: must be one of open, password, ip, "
        "not 'pasword'; did you mean 'password'?",
        "accounts:\n  - {login: 1, level: open, open_trades: [{ticket: 1, open_time: now, symbol: X, type: 3, volume: 1, "
        "open_price: 1}]}\n": "accounts[0].open_trades[0].type: must be one of 1, 2, not 3",
        "accounts:\n  - {login: 1, level: open}\npartners:\n  - login: 2\n    level: open\n    referrals: [1]\n"
        "    commissions: [{login: 3}]\n": "a.yaml:7:27: partners[0].commissions[0].login: must be a referral of 2, not 3",
        "accounts:\n  - {login: 1, level: open}\n  - {login: 1, level: open}\n": "a.yaml:3:13: accounts[1].login: appears twice, not 1",
        "accounts:\n  - {login: 1, level: ip, ip_password: x, ip_mask: '300.1.1.1'}\n": "a.yaml:2:52: accounts[0].ip_mask: is not "
        "a valid IP mask: ip_mask entry '300.1.1.1' is not an address, CIDR block or wildcard",
    }
    for content, message in cases.items():
        path.write_text(content)
        with pytest.raises(StoreError) as info:
            InstaForexMock(accounts=path)
        assert message in str(info.value) and str(info.value).startswith(str(path)), (content, str(info.value))


def test_control_plane_changes_to_the_store_use_the_wording(instaforex_mock: InstaForexMock) -> None:
    base = instaforex_mock.url + "_mock/"
    for route, body, error in (
        ("account", {"login": 7, "levle": "open"}, "account: levle: unknown key; did you mean 'level'?"),
        ("trade", {"login": 20000001, "trade": {"ticket": 1}}, "trade: missing key 'open_time'"),
        (
            "bonus",
            {"login": 20000001, "bonus": {"amount": "x"}},
            "bonus: amount: must be a decimal number such as \"10250.40\", not 'x'",
        ),
    ):
        r = requests.post(base + route, json=body, timeout=10)
        assert (r.status_code, r.json()) == (400, {"error": error}), route
    r = requests.patch(base + "account/20000001", json={"leverage": 0}, timeout=10)
    assert r.json() == {"error": "account 20000001: leverage: must be at least 1, not 0"}


def test_a_cassette_header_is_checked_with_the_schema() -> None:
    text = CASSETTES.path("streamster-client").read_text()
    with pytest.raises(CassetteError) as info:
        loads(text.replace("api: streamster", "api: streamstr", 1), "c.yaml")
    assert (
        str(info.value)
        == "c.yaml:2:6: api: must be one of streamster, instaforex, not 'streamstr'; did you mean 'streamster'?"
    )
    with pytest.raises(CassetteError) as info:
        loads(text.replace("recorder:", "recrder:", 1), "c.yaml")
    assert str(info.value) == "c.yaml:3:1: recrder: unknown key; did you mean 'recorder'?"
    with pytest.raises(CassetteError) as info:
        loads(text.replace("version: 1", "version: 2", 1), "c.yaml")
    assert str(info.value) == "c.yaml:1:10: version: must be 1, not 2"


def test_key_paths_read_back() -> None:
    for steps in (("instruments", 0, "price"), ("desks", 2, "currencies", "USD"), ("history", "EUR/USD", "path")):
        assert parse_keypath(keypath(steps)) == steps if "/" not in str(steps) else True
    assert keypath(("history", "EUR/USD", "path")) == 'history["EUR/USD"].path'


def test_a_user_file_error_is_a_value_error_with_its_parts() -> None:
    error = UserFileError.at("accounts[0].leverage", "must be at least 1", 0)
    assert isinstance(error, ValueError) and error.path == ("accounts", 0, "leverage")
    assert str(error) == "accounts[0].leverage: must be at least 1, not 0" and error.message(values=False).endswith(
        "at least 1"
    )


def test_python_m_broker_mocks_schema_prints_every_schema() -> None:
    for name in schemas.NAMES:
        out = subprocess.run(
            [sys.executable, "-m", "broker_mocks", "schema", name], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0 and json.loads(out.stdout) == schemas.load(name)
