"""The tutorial's bot: buys EUR/USD when it is cheap, with a stop loss, and survives a refused order."""

import logging
from decimal import Decimal

import zeep
from zeep.exceptions import Fault

log = logging.getLogger("my_bot")


def run_once(wsdl_url: str, below: str = "1.10000", quantity: int = 10) -> str:
    """One look at the market: 'bought', 'waiting' or 'refused'."""
    api = zeep.Client(wsdl_url)
    quote = api.service.GetQuote("EUR/USD")
    if quote.Offer >= Decimal(below):
        return "waiting"
    try:
        api.service.SendOrder(
            Instrument="EUR/USD", Desk="Virtual Forex", Quantity=quantity, ExitStopLoss=quote.Bid - Decimal("0.00150")
        )
    except Fault as fault:
        log.warning("order refused: %s", fault.message)
        return "refused"
    return "bought"
