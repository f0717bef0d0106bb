"""The SOAP wire: spyne parses and serializes the bare document/literal messages.

spyne assumes one body element names the operation; the Streamster binding is bare (five
operations have an empty body, SendOrder and ChangeOrder both send <Order>, GetBars sends three
parts). `BareSoap11` therefore dispatches on the operation the HTTP layer found (SOAPAction, else
the body's shape), hands spyne a synthetic wrapper holding the body's parts, and unwraps spyne's
response wrapper so the Body holds the bare result element (or nothing, for void operations).
"""

from __future__ import annotations

import copy
import logging
from decimal import Decimal
from typing import Any

from . import _spyne_compat  # noqa: F401  (must run before spyne is imported)

from lxml import etree
from spyne import Application, ComplexModel, Fault, ServiceBase, Unicode, rpc
from spyne.model.complex import Array
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
import spyne.const

# spyne runs a full gc.collect() after a request (at most once a second) to close uploaded files
# sooner; the emulator takes no files, and in a test process with a large heap every collection
# stalls all threads for tens of milliseconds.
spyne.const.MIN_GC_INTERVAL = float("inf")

from .errors import StreamsterError
from .market import Bar
from .model import (
    BAR_FIELDS, DESK_FIELDS, ORDER_FIELDS, POSITION_FIELDS, QUOTE_FIELDS, TRADE_FIELDS, Order, Position,
    Quote, Trade,
)  # fmt: skip
from .platform import CENT, Platform, plain

log = logging.getLogger(__name__)


class _QuietClientFaults(logging.Filter):
    """spyne logs every Client fault at ERROR with a traceback; a refused request is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.exc_info and isinstance(record.exc_info[1], Fault) and "Client" in str(record.exc_info[1].faultcode)
        )


logging.getLogger("spyne.application.client").addFilter(_QuietClientFaults())

NS = "http://www.novativa.com/ws/streamsterapi"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OPERATIONS = (
    "GetQuote", "GetOrders", "GetTrades", "GetPositions", "GetDesks", "GetBars", "GetLastMessage",
    "SendOrder", "ChangeOrder", "CancelOrder", "ChangePosition", "ClosePosition",
)  # fmt: skip
ENV_OPERATION = "streamster.operation"
ENV_DOCUMENT = "streamster.document"


def _model(name: str, names: tuple[str, ...], required: bool = False) -> type[ComplexModel]:
    # Every value travels as text: the platform parses input itself (so faults name the field
    # and value) and the wire formats output (digits per instrument, no exponent).
    attrs: dict[str, Any] = {"__namespace__": NS, "__type_name__": name}
    attrs["_type_info"] = [(n, Unicode(min_occurs=1 if required else 0)) for n in names]
    return type(name, (ComplexModel,), attrs)


QuoteModel = _model("Quote", QUOTE_FIELDS)
OrderModel = _model("Order", ORDER_FIELDS)
PositionModel = _model("Position", POSITION_FIELDS)
TradeModel = _model("Trade", TRADE_FIELDS)
DeskModel = _model("Desk", DESK_FIELDS)
BarModel = _model("Bar", BAR_FIELDS, required=True)


def _dt(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")


def _qty(value: Decimal | None) -> str | None:
    return None if value is None else plain(value.normalize())


def _money(value: Decimal | None) -> str | None:
    return None if value is None else plain(value.quantize(CENT))


class _Formatter:
    """Platform records to spyne models: instrument digits, hidden columns left out."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def price(self, instrument: str, value: Decimal | None) -> str | None:
        if value is None:
            return None
        inst = self.platform.instruments.get(instrument.lower())
        return plain(inst.round(value) if inst else value)

    def _build(self, model: type[ComplexModel], window: str | None, values: dict[str, Any]) -> Any:
        visible = self.platform.visible(window) if window else None
        kept = {k: v for k, v in values.items() if v is not None and (visible is None or k in visible)}
        return model(**kept)

    def quote(self, instrument: str, q: Quote) -> Any:
        p = lambda v: self.price(instrument, v)  # noqa: E731
        return self._build(QuoteModel, "Rates", {
            "Last": p(q.last), "Bid": p(q.bid), "Offer": p(q.offer), "Change": p(q.change), "High": p(q.high),
            "Low": p(q.low), "Open": p(q.open), "Close": p(q.close), "Time": q.time.strftime("%H:%M:%S"),
            "Currency": q.currency, "Yield": None if q.yield_ is None else plain(q.yield_), "Ask": p(q.ask),
        })  # fmt: skip

    def order(self, o: Order) -> Any:
        p = lambda v: self.price(o.instrument, v)  # noqa: E731
        return self._build(OrderModel, "Orders", {
            "OrderID": o.order_id, "Desk": o.desk, "Instrument": o.instrument, "Side": o.side, "Phase": o.phase,
            "PriceType": o.price_type, "Price": p(o.price), "ActiveQuantity": _qty(o.active_quantity),
            "TradedQuantity": _qty(o.traded_quantity), "ExitStopLoss": p(o.exit_stop_loss),
            "ExitTarget": p(o.exit_target), "Status": o.status, "PositionID": o.position_id,
            "Currency": o.currency, "Duration": _dt(o.duration), "DurationType": o.duration_type,
            "Quantity": _qty(o.quantity), "QuantityType": o.quantity_type, "Text": o.text, "Entered": _dt(o.entered),
        })  # fmt: skip

    def position(self, x: Position) -> Any:
        p = lambda v: self.price(x.instrument, v)  # noqa: E731
        return self._build(PositionModel, "Positions", {
            "PositionID": x.position_id, "Desk": x.desk, "Instrument": x.instrument, "Side": x.side,
            "OpenPrice": p(x.open_price), "Currency": x.currency, "Quantity": _qty(x.quantity),
            "Points": plain(x.points), "Profit": _money(x.profit), "ExitStopLoss": p(x.exit_stop_loss),
            "ExitTarget": p(x.exit_target), "Entered": _dt(x.entered), "Exited": _dt(x.exited), "Status": x.status,
            "Text": x.text, "ClosePrice": p(x.close_price), "Interest": _money(x.interest),
        })  # fmt: skip

    def trade(self, t: Trade) -> Any:
        return self._build(TradeModel, "Trades", {
            "TradeID": t.trade_id, "Desk": t.desk, "Instrument": t.instrument, "Side": t.side, "Phase": t.phase,
            "Price": self.price(t.instrument, t.price), "Quantity": _qty(t.quantity), "Executed": _dt(t.executed),
            "Status": t.status, "Currency": t.currency, "Text": t.text, "OrderID": t.order_id,
        })  # fmt: skip

    def bar(self, instrument: str, b: Bar) -> Any:
        p = lambda v: self.price(instrument, v)  # noqa: E731
        return BarModel(BarDateTime=_dt(b.start), Open=p(b.open), High=p(b.high), Low=p(b.low), Close=p(b.close),
                        Volume=str(b.volume))  # fmt: skip


def _platform(ctx: Any) -> Platform:
    return ctx.app.platform  # type: ignore[no-any-return]


def _call(ctx: Any, fn: Any, *args: Any) -> Any:
    """Run a platform call; a refusal becomes a SOAP Client fault naming the field and value."""
    try:
        return fn(*args)
    except StreamsterError as exc:
        raise Fault(faultcode="Client", faultstring=str(exc)) from None


def _object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: getattr(value, k, None) for k in value.get_flat_type_info(value.__class__)}


_text = Unicode(min_occurs=0)


class StreamsterApi(ServiceBase):
    """The 12 operations of the Streamster API."""

    @rpc(_text, _returns=QuoteModel, _out_variable_name="Quote")
    def GetQuote(ctx, Instrument):  # noqa: N802,N803
        quote = _call(ctx, _platform(ctx).get_quote, Instrument)
        return ctx.app.formatter.quote(Instrument, quote)

    @rpc(_returns=Array(OrderModel), _out_variable_name="Orders")
    def GetOrders(ctx):  # noqa: N802
        return [ctx.app.formatter.order(o) for o in _platform(ctx).get_orders()]

    @rpc(_returns=Array(TradeModel), _out_variable_name="Trades")
    def GetTrades(ctx):  # noqa: N802
        return [ctx.app.formatter.trade(t) for t in _platform(ctx).get_trades()]

    @rpc(_returns=Array(PositionModel), _out_variable_name="Positions")
    def GetPositions(ctx):  # noqa: N802
        return [ctx.app.formatter.position(p) for p in _platform(ctx).get_positions()]

    @rpc(_returns=Array(DeskModel), _out_variable_name="Desks")
    def GetDesks(ctx):  # noqa: N802
        return [DeskModel(Name=d, Currency=c, Amount=_money(a)) for d, c, a in _platform(ctx).get_desks()]

    @rpc(_text, _text, _text, _returns=Array(BarModel), _out_variable_name="Bars")
    def GetBars(ctx, Instrument, Period, Options):  # noqa: N802,N803
        bars = _call(ctx, _platform(ctx).get_bars, Instrument, Period, Options)
        return [ctx.app.formatter.bar(Instrument, b) for b in bars]

    @rpc(_returns=Unicode, _out_variable_name="LastMessage")
    def GetLastMessage(ctx):  # noqa: N802
        return _platform(ctx).get_last_message()

    @rpc(OrderModel.customize(min_occurs=0))
    def SendOrder(ctx, Order):  # noqa: N802,N803
        _call(ctx, _platform(ctx).send_order, _object(Order))

    @rpc(OrderModel.customize(min_occurs=0))
    def ChangeOrder(ctx, Order):  # noqa: N802,N803
        _call(ctx, _platform(ctx).change_order, _object(Order))

    @rpc(_text)
    def CancelOrder(ctx, OrderID):  # noqa: N802,N803
        _call(ctx, _platform(ctx).cancel_order, OrderID)

    @rpc(PositionModel.customize(min_occurs=0))
    def ChangePosition(ctx, Position):  # noqa: N802,N803
        _call(ctx, _platform(ctx).change_position, _object(Position))

    @rpc(_text)
    def ClosePosition(ctx, PositionID):  # noqa: N802,N803
        _call(ctx, _platform(ctx).close_position, PositionID)


def _qualify(element: Any) -> Any:
    """A copy of `element` whose unqualified descendants are put in the Streamster namespace."""
    element = copy.deepcopy(element)
    for node in element.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = f"{{{NS}}}{node.tag}"
    return element


class BareSoap11(Soap11):
    """SOAP 1.1 for a bare binding: dispatch on the operation the HTTP layer determined."""

    # Faults say soap:Client / soap:Server (the contract's words; PHP shows the text as sent).
    soap_env = "soap"

    def fault_to_parent(self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *args: Any, **kwargs: Any) -> Any:
        # Every fault carries an (empty) <detail/>: it concerns the Body (SOAP 1.1 §4.4; see wire.fault_xml).
        if inst.detail is None:
            inst.detail = ""
        return super().fault_to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        # The HTTP layer already parsed the body with a hardened parser (no DTD, no entities).
        ctx.in_document = ctx.transport.req_env[ENV_DOCUMENT]

    def decompose_incoming_envelope(self, ctx: Any, message: Any = Soap11.REQUEST) -> None:
        envelope = ctx.in_document
        operation = ctx.transport.req_env[ENV_OPERATION]
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        wrapper = etree.Element(f"{{{NS}}}{operation}")
        for part in body if body is not None else ():
            if isinstance(part.tag, str):
                wrapper.append(_qualify(part))
        ctx.in_header_doc = None
        ctx.in_body_doc = wrapper
        ctx.method_request_string = f"{{{NS}}}{operation}"

    def serialize(self, ctx: Any, message: Any) -> None:
        super().serialize(ctx, message)
        body = ctx.out_body_doc
        if ctx.out_error is not None or body is None:
            return
        for wrapper in list(body):
            index = body.index(wrapper)
            body.remove(wrapper)
            for offset, part in enumerate(list(wrapper)):
                body.insert(index + offset, part)
        etree.cleanup_namespaces(ctx.out_document, top_nsmap={"soap": SOAP_ENV})


def build_soap_app(platform: Platform) -> WsgiApplication:
    """A spyne WSGI application bound to `platform`."""
    app = Application(
        [StreamsterApi],
        tns=NS,
        name="StreamsterApi",
        in_protocol=BareSoap11(),
        out_protocol=BareSoap11(),
    )
    nsmap = app.interface.nsmap
    nsmap.pop("soap11env", None)
    nsmap["soap"] = SOAP_ENV
    app.platform = platform  # type: ignore[attr-defined]
    app.formatter = _Formatter(platform)  # type: ignore[attr-defined]
    return WsgiApplication(app)
