"""Cassette loads bounded in size, depth, aliases, values and time, and values that cannot go on the wire
refused at load (issue 19, items 7 and 8)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mock_common.recording import CassetteError, load, loads
from mock_common.recording.cassette import MIB, Limits
from mock_instaforex.cli import main as instaforex_main
from mock_streamster.cli import main as streamster_main

from .cassette_sessions import STREAMSTER_PHP

ROOT = Path(__file__).resolve().parent.parent
HEADER = "version: 1\napi: streamster\nrecorded_at: '2026-01-01T00:00:00Z'\n"


# ----------------------------------------------------------------------------- 7: bounded loads


def test_a_deeply_nested_cassette_is_refused_with_the_limit_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(HEADER + "interactions: " + "[" * 3000 + "]" * 3000 + "\nend: 0\n")
    with pytest.raises(CassetteError, match=r"deep.yaml, line 4: nested deeper than the limit of 32 levels"):
        load(deep)
    with pytest.raises(CassetteError, match="nested deeper than the limit of 32 levels"):
        loads(HEADER + "interactions: " + "[" * 40 + "]" * 40 + "\nend: 0\n")
    assert streamster_main(["check-cassette", str(deep)]) == 2
    err = capsys.readouterr().err
    assert "nested deeper than the limit" in err and "Traceback" not in err


def test_a_cassette_aliasing_an_interaction_two_million_times_is_refused_at_once(tmp_path: Path) -> None:
    one = "- &a {offset: 0, request: {method: GET, url: /}, response: {status: 200}}\n"
    text = HEADER + "interactions:\n" + one + "- *a\n" * 2_000_000 + "end: 2000001\n"
    started = time.monotonic()
    with pytest.raises(CassetteError, match="more than the limit of 1000 YAML aliases"):
        loads(text, "aliases.yaml")
    assert time.monotonic() - started < 20  # counted on the events: stops at the 1,001st alias


def test_a_cassette_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(200 * MIB)  # sparse: 200 MB that cost no disk
    with pytest.raises(CassetteError, match=r"big.yaml: larger than the limit of 64 MiB for a cassette"):
        load(big)
    assert instaforex_main(["check-cassette", str(big)]) == 2
    assert "larger than the limit of 64 MiB" in capsys.readouterr().err


def test_check_cassette_of_dev_zero_stops_at_the_size_limit(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    run = subprocess.run([sys.executable, "-m", "mock_streamster.cli", "check-cassette", "/dev/zero"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert run.returncode == 2 and "/dev/zero: larger than the limit of 64 MiB" in run.stderr, run.stderr[-500:]


def test_a_load_past_its_deadline_is_refused_naming_the_limit() -> None:
    text = STREAMSTER_PHP.read_text(encoding="utf-8")
    with pytest.raises(CassetteError, match=r"took longer than the limit of 1e-09 s"):
        loads(text, "slow.yaml", limits=Limits(max_seconds=1e-9))
    with pytest.raises(CassetteError, match="more than the limit of 100 values"):
        loads(text, "many.yaml", limits=Limits(max_nodes=100))
    assert len(loads(text).interactions) == 26  # the defaults load it


# ----------------------------------------------------------------------------- 8: values refused at load


def _one(response: str, offset: str = "0") -> str:
    return (HEADER + f"interactions:\n- offset: {offset}\n  request: {{method: GET, url: /service.wsdl}}\n"
            f"  response: {response}\nend: 1\n")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_one("{status: 200}", ".nan"), "offset must be a finite number of seconds >= 0, not nan"),
        (_one("{status: 200}", ".inf"), "offset must be a finite number of seconds >= 0, not inf"),
        (_one('{status: 200, headers: {X-A: "a\\r\\nSet-Cookie: b=c"}}'), "the value holds a control character"),
        (_one('{status: 200, headers: {X-A: "a\\nb"}}'), "the value holds a control character"),
        (_one('{status: 200, headers: {"X A": "b"}}'), "header name 'X A' is not an HTTP token"),
        (_one('{status: 200, headers: {"X:A": "b"}}'), "header name 'X:A' is not an HTTP token"),
        (_one("{status: 200, headers: {X-A: [1, 2]}}"), "the value must be text, not list"),
    ],
)
def test_values_that_cannot_go_on_the_wire_are_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError, match=r"bad.yaml, line \d+: interaction 1: .*") as exc:
        load(path)
    assert reason in str(exc.value)
    assert streamster_main(["replay", "--cassette", str(path)]) == 2
    assert reason in capsys.readouterr().err
