"""Docs example (docs/how-to/pytest.md): the fixtures and the reference clients bound to them."""

from broker_mocks.client import NewOrder, Side


def test_the_bot_opens_a_position(streamster_mock, streamster_client):
    streamster_client.send_order(NewOrder("EUR/USD", "Virtual Forex", 10, side=Side.BUY))
    (position,) = streamster_client.get_positions()
    assert position.instrument == "EUR/USD" and position.quantity == 10
    streamster_mock.move_price("EUR/USD", 25)  # 25 pips up: the position gains
    assert streamster_client.get_positions()[0].profit > 0


def test_the_bot_reads_the_demo_balance(instaforex_mock, instaforex_client):
    assert instaforex_client.balance().balance > 0  # demo login 20000001, token requested on the way
    instaforex_mock.assert_called("RequestBalanceInformation", times=1)
