"""The tutorial's tests: the bot against the Streamster emulator of the pytest plugin."""

from my_bot import run_once


def test_the_bot_buys_when_the_price_is_low(streamster_mock):
    streamster_mock.set_price("EUR/USD", "1.09000")  # bid; the offer is 2 pips above
    assert run_once(streamster_mock.wsdl_url) == "bought"
    streamster_mock.assert_called("SendOrder", times=1, where="1.08850")  # the stop loss it sent


def test_the_bot_waits_when_the_price_is_high(streamster_mock):
    streamster_mock.set_price("EUR/USD", "1.12000")
    assert run_once(streamster_mock.wsdl_url) == "waiting"
    streamster_mock.assert_not_called("SendOrder")


def test_the_bot_survives_a_refused_order(streamster_mock):
    streamster_mock.set_price("EUR/USD", "1.09000")
    streamster_mock.fail("SendOrder", kind="fault", code="Server", message="Market closed")
    assert run_once(streamster_mock.wsdl_url) == "refused"
    (entry,) = streamster_mock.journal.entries("SendOrder")
    assert entry.fault == "fault" and entry.status == 500  # the journal shows the injected fault
    assert streamster_mock.state()["positions"] == 0  # and nothing was traded
