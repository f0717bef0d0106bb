"""The drift check tells contract drift from state (issue 19, item 12); a missing cassette says how to
record one (issue 17.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_common.recording import CassetteError, load
from mock_instaforex.cli import main as instaforex_main
from mock_instaforex.recording import check_cassette as check_instaforex
from mock_streamster.cli import main as streamster_main
from mock_streamster.recording import check_cassette as check_streamster

from .cassette_sessions import INSTAFOREX_CLIENT, STREAMSTER_CLIENT, STREAMSTER_PHP

# ----------------------------------------------------------------------------- 12: drift apart from state


def test_the_shipped_cassettes_show_no_contract_drift(capsys: pytest.CaptureFixture[str]) -> None:
    for path in (STREAMSTER_CLIENT, STREAMSTER_PHP):
        assert streamster_main(["check-cassette", str(path)]) == 0
    assert instaforex_main(["check-cassette", str(INSTAFOREX_CLIENT)]) == 0
    out = capsys.readouterr().out
    assert out.count("contract drift: none") == 3 and "CONTRACT DRIFT" not in out
    # The PHP cassette was recorded at seed 1 and is checked at seed 0: its prices and IDs are state;
    # the IDs the emulator hands out are paired with the recorded ones, so ChangeOrder and
    # ClosePosition reach the same orders and positions (no refusal, no missing ExitStopLoss).
    php = check_streamster(load(STREAMSTER_PHP))
    assert php.ok and not php.same
    state = "\n".join(line for i in php.items for line in i.state)
    assert "value of /Quote/Bid" in state or "value of /Quote/Change" in state
    assert "ID /Positions/Position/PositionID: recorded 'GXFX2S794'" in state and "outcome:" not in state
    assert streamster_main(["check-cassette", str(STREAMSTER_PHP), "--strict"]) == 1
    assert streamster_main(["check-cassette", str(STREAMSTER_PHP), "--seed", "1", "--strict"]) == 0
    assert instaforex_main(["check-cassette", str(INSTAFOREX_CLIENT), "--strict"]) == 1  # balances, list lengths
    capsys.readouterr()


def test_a_missing_field_or_a_changed_type_is_contract_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drifted = tmp_path / "drift.yaml"
    drifted.write_text(STREAMSTER_CLIENT.read_text().replace("<tns:Bid>1.08500</tns:Bid>", "", 1))
    report = check_streamster(load(drifted))
    bad = [i for i in report.items if i.contract]
    assert [i.number for i in bad] == [2] and "extra in the emulator's answer: /Quote/Bid (number)" in bad[0].contract
    assert streamster_main(["check-cassette", str(drifted)]) == 1
    out = capsys.readouterr().out
    assert "contract drift: 1 of 17 interactions" in out and "#2 GetQuote(Instrument='EUR/USD')" in out
    drifted.write_text(
        STREAMSTER_CLIENT.read_text().replace("<tns:Bid>1.08500</tns:Bid>", "<tns:BidPrice>x</tns:BidPrice>", 1)
    )
    bad = [i for i in check_streamster(load(drifted)).items if i.contract]
    assert any("BidPrice" in s for s in bad[0].contract)  # the WSDL's schema: an unknown element
    assert "missing in the emulator's answer: /Quote/BidPrice (text)" in bad[0].contract
    drifted.write_text(INSTAFOREX_CLIENT.read_text().replace('"Balance": 10250.4', '"Balance": "10250.4"', 1))
    report = check_instaforex(load(drifted))
    bad = [i for i in report.items if i.contract]
    assert len(bad) == 1 and "Balance: '10250.4' is not of type 'number'" in bad[0].contract
    assert "type of $.Balance: recorded string, emulator number" in bad[0].contract
    text = INSTAFOREX_CLIENT.read_text()
    drifted.write_text(text.replace('"Equity": 10410.9, ', "", 1))
    bad = [i for i in check_instaforex(load(drifted)).items if i.contract]
    assert len(bad) == 1 and "extra in the emulator's answer: $.Equity (number)" in bad[0].contract
    assert instaforex_main(["check-cassette", str(drifted)]) == 1
    capsys.readouterr()


def test_a_refusal_where_the_emulator_serves_is_state_but_a_changed_fault_code_is_drift(tmp_path: Path) -> None:
    text = STREAMSTER_CLIENT.read_text()
    cas = load(STREAMSTER_CLIENT)
    fault = next(i for i in cas.interactions if i.response.status == 500)  # CancelOrder('no-such-order')
    assert "soap:Client" in fault.response.body
    flipped = tmp_path / "flip.yaml"
    flipped.write_text(text.replace("<faultcode>soap:Client</faultcode>", "<faultcode>soap:Server</faultcode>", 1))
    bad = [i for i in check_streamster(load(flipped)).items if i.contract]
    assert len(bad) == 1 and "fault code: recorded soap:Server, emulator soap:Client" in bad[0].contract
    # a recorded success the fresh emulator refuses (the order does not exist there): state, not drift
    cancelled = next(i for i in cas.interactions if i.request.soap_action == "CancelOrder" and i.response.status == 200)
    number = cas.interactions.index(fault)
    cas.interactions[number].response = cancelled.response
    served = tmp_path / "served.yaml"
    from mock_common.recording import cassette as cassette_io

    cassette_io.save(cas, served)
    item = check_streamster(load(served)).items[number]
    assert item.ok and any(s.startswith("outcome: recorded 200, emulator 500 soap:Client fault") for s in item.state)


# ----------------------------------------------------------------------------- 17.5: say how to record


def test_a_missing_cassette_says_how_to_record_one(
    tmp_path: Path, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    from mock_common.recording import replay

    missing = tmp_path / "missing.yaml"
    assert streamster_main(["replay", "--cassette", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"`mock-streamster record --upstream http://127.0.0.1:8018/ --cassette {missing}`" in err
    with pytest.raises(CassetteError, match=r"replay\(\) only replays. Record it first: record\(path, api"):
        replay(missing)
    pytester.makepyfile(
        test_bot="""
        import pytest

        @pytest.mark.broker_cassette("instaforex", path="missing.yaml")
        def test_bot(broker_cassette):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "pytest --broker-record-mode=once" in out and "mock-instaforex record --upstream" in out
    assert "Traceback" not in out and "recording/session.py" not in out
