"""The typed journal: one record for both emulators, bounded in bytes, with assertions that explain."""

from __future__ import annotations

import pytest
import requests

from mock_common.journal import MAX_BODY_BYTES, Journal, JournalEntry, clip
from mock_instaforex import InstaForexMock
from mock_streamster import StreamsterMock

from .soaputil import call, element, envelope, post, send_order


def test_a_long_body_is_cut_at_the_limit_and_marked() -> None:
    assert clip("short") == ("short", False, 5)
    text, cut, size = clip("é" * MAX_BODY_BYTES)  # 2 bytes each: twice the limit
    assert cut and size == MAX_BODY_BYTES and len(text.encode()) <= MAX_BODY_BYTES + 3
    journal = Journal()
    entry = journal.record({"operation": "X", "request": b"a" * (3 * MAX_BODY_BYTES), "response": "ok", "status": 200})
    assert entry.request_cut and not entry.response_cut and len(entry.request or "") == MAX_BODY_BYTES


def test_the_ring_is_bounded_in_bytes_as_well_as_entries() -> None:
    journal = Journal(maxlen=1000, max_bytes=4 * MAX_BODY_BYTES)
    for i in range(50):
        journal.record({"operation": "X", "request": "x" * MAX_BODY_BYTES, "status": 200, "time": str(i)})
    assert journal.total == 50 and 1 < len(journal) < 5 and journal.bytes <= journal.max_bytes
    assert [e.seq for e in journal.entries()] == list(range(51 - len(journal), 51))  # the newest are kept
    with pytest.raises(ValueError, match="max_bytes"):
        Journal(max_bytes=10)
    with pytest.raises(ValueError, match="journal size"):
        Journal(maxlen=0)


def test_streamster_keeps_the_start_of_a_huge_request(streamster_mock: StreamsterMock) -> None:
    junk = envelope(element("GetQuote", element("Instrument", "x" * (900 * 1024))))
    assert post(streamster_mock.endpoint_url, junk, "GetQuote").status == 500  # an unknown instrument
    (entry,) = streamster_mock.journal.entries("GetQuote")
    assert isinstance(entry, JournalEntry) and entry.request_cut and len(entry.request or "") <= MAX_BODY_BYTES
    served = requests.get(f"{streamster_mock.url}/_mock/journal?operation=GetQuote", timeout=10).json()
    assert served[0]["request_cut"] is True and served[0]["operation"] == "GetQuote" and served[0]["seq"] == 1


def test_streamster_assertions_list_the_nearest_calls_first(streamster_mock: StreamsterMock) -> None:
    call(streamster_mock, "GetQuote", element("Instrument", "EUR/USD"))
    call(streamster_mock, "GetQuote", element("Instrument", "GBP/USD"))
    send_order(streamster_mock, Instrument="EUR/USD", Desk="Virtual Forex", Quantity="1")
    call(streamster_mock, "GetPositions")
    assert len(streamster_mock.assert_called("GetQuote", times=2)) == 2
    assert [e.seq for e in streamster_mock.assert_called("getquote", where="GBP/USD")] == [2]
    streamster_mock.assert_called("SendOrder", times=1, where=lambda e: e.status == 200)
    streamster_mock.assert_not_called("CancelOrder")
    with pytest.raises(AssertionError) as failed:
        streamster_mock.assert_called("GetQuote", times=1, where="USD/JPY")
    text = str(failed.value)
    assert "expected GetQuote with 'USD/JPY' in its request to be called 1 time, it was called 0 times" in text
    lines = text.splitlines()[2:]
    assert [line.split()[2] for line in lines] == ["GetQuote", "GetQuote", "GetPositions", "SendOrder"]
    assert "GBP/USD" in lines[0] and "-> 200" in lines[0]  # newest first among equals; what was sent
    with pytest.raises(
        AssertionError,
        match=r"(?s)expected no call to SendOrder, there were 1\..*#3 .* SendOrder -> 200: <Order><Instrument>EUR/USD",
    ):
        streamster_mock.assert_not_called("SendOrder")


def test_instaforex_routes_are_entries_too(instaforex_mock: InstaForexMock) -> None:
    instaforex_mock.fail("RequestOpenTrades")
    r = requests.post(
        instaforex_mock.url + "api/Authentication/RequestClientApiToken",
        json={"Login": 20000001, "Password": "demo-pass"},
        timeout=10,
    )
    for route in ("RequestBalanceInformation", "RequestOpenTrades"):
        requests.get(f"{instaforex_mock.url}client/{route}/20000001", headers={"passkey": r.json()}, timeout=10)
    (balance,) = instaforex_mock.journal.entries("RequestBalanceInformation")
    assert (balance.operation, balance.route, balance.status, balance.fault) == ("RequestBalanceInformation",) * 2 + (
        200,
        None,
    )
    assert balance["path"] == "/client/RequestBalanceInformation/20000001" and balance.details["method"] == "GET"
    instaforex_mock.assert_called("RequestOpenTrades", times=1, where=lambda e: e.fault == "http" and e.status == 500)
    instaforex_mock.assert_called("RequestClientApiToken", where="demo-pass")
    with pytest.raises(
        AssertionError, match="(?s)RequestClosedTrades.*0 times.*nearest first:\n  #3 [^\n]* RequestOpenTrades"
    ):
        instaforex_mock.assert_called("RequestClosedTrades")
    served = requests.get(instaforex_mock.url + "_mock/journal?operation=requestopentrades", timeout=10).json()
    assert [(e["route"], e["injected"], e["status"]) for e in served] == [("RequestOpenTrades", "http", 500)]


def test_assert_called_refuses_a_bad_times() -> None:
    with pytest.raises(ValueError, match="times must be a whole number"):
        Journal().assert_called("X", times=-1)


def test_the_journal_of_a_new_emulator_numbers_from_one_after_reset() -> None:
    with InstaForexMock() as m:
        requests.get(m.url + "client/RequestBalanceInformation/20000001", timeout=10)
        m.journal.clear()  # clearing forgets entries, the numbering goes on
        requests.get(m.url + "client/RequestBalanceInformation/20000001", timeout=10)
        assert [e.seq for e in m.journal] == [2]
        m.reset()
        requests.get(m.url + "client/RequestBalanceInformation/20000001", timeout=10)
        assert [e.seq for e in m.journal] == [1]
