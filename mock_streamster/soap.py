"""The SOAP wire of the Streamster API: spyne's service definition, called on the parsed request.

spyne is the SOAP framework here: the service (`StreamsterApi`, one method per operation), the
argument models and their deserialization, and the faults. The WSDL is the static file beside
this module (`streamster.wsdl`, the vendor's own), not spyne's. The Streamster binding is bare
(five operations have an empty Body, SendOrder and ChangeOrder both send <Order>, GetBars sends
three parts), so the wire names the operation (SOAPAction, else the Body's shape: `operation_of`)
and `SoapService.dispatch` reads that operation's arguments from the Body's parts. Replies are
written straight from the platform's records (`_Writer`), as spyne would write the models.
"""

from __future__ import annotations

import logging
import re
import threading
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from . import _spyne_compat  # noqa: F401  (must run before spyne is imported)

from lxml import etree
from spyne import Application, ComplexModel, Fault, MethodContext, ServiceBase, Unicode, rpc
from spyne.model.complex import Array
from spyne.protocol.soap import Soap11
from spyne.server import ServerBase

from .contract import NS, OPERATIONS, canonical
from .errors import StreamsterError
from .market import Bar
from .model import (
    BAR_FIELDS, CLOSED, DESK_FIELDS, ORDER_FIELDS, POSITION_FIELDS, QUOTE_FIELDS, TRADE_FIELDS, Order, Position,
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

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def _blank(names: tuple[str, ...]) -> classmethod:  # type: ignore[type-arg]
    """A model's `get_deserialization_instance`: what spyne's __init__ gives a record whose fields are
    all text or records (every field None), without its per-field machinery (a third of the cost of
    reading an Order)."""
    empty = dict.fromkeys(names)

    def get_deserialization_instance(cls: Any, ctx: Any) -> Any:
        model = cls.__orig__ or cls
        inst = model.__new__(model)
        inst.__dict__.update(empty)
        return inst

    return classmethod(get_deserialization_instance)


def _model(name: str, names: tuple[str, ...], required: bool = False) -> type[ComplexModel]:
    # Every value travels as text: the platform parses input itself (so faults name the field
    # and value) and the wire formats output (digits per instrument, no exponent).
    attrs: dict[str, Any] = {"__namespace__": NS, "__type_name__": name}
    attrs["_type_info"] = [(n, Unicode(min_occurs=1 if required else 0)) for n in names]
    attrs["get_deserialization_instance"] = _blank(names)
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


def _escape(text: str) -> str:
    # What lxml writes for text content: the three markup characters, and CR kept as a reference.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


class _Shape:
    """How a model's records are written: element name and, in the model's field order, the fields."""

    def __init__(self, model: type[ComplexModel]) -> None:
        self.name = model.get_type_name()
        self.fields = tuple(model.get_flat_type_info(model))
        self.open, self.close, self.empty = f"<tns:{self.name}>", f"</tns:{self.name}>", f"<tns:{self.name}/>"
        self._columns: dict[frozenset[str] | None, list[tuple[str, str, str, bool]]] = {}

    def columns(self, visible: frozenset[str] | None = None) -> list[tuple[str, str, str, bool]]:
        """(field, open tag, close tag, escaped?) of each field written: all, or those visible in the window."""
        found = self._columns.get(visible)
        if found is None:
            found = [
                (f, f"<tns:{f}>", f"</tns:{f}>", f not in _FORMATTED)
                for f in self.fields
                if visible is None or f in visible
            ]
            if len(self._columns) < 64:  # a window shows one of few column sets: they are kept
                self._columns[visible] = found
        return found

    def write(self, columns: list[tuple[str, str, str, bool]], values: dict[str, str | None]) -> str:
        """One record: its columns in order, each left out when its value is None."""
        get = values.get
        parts = [o + (_escape(v) if e else v) + c for f, o, c, e in columns if (v := get(f)) is not None]
        return f"{self.open}{''.join(parts)}{self.close}" if parts else self.empty


# Fields the writer formats itself from numbers and times (nothing to escape); the rest is text.
_FORMATTED = frozenset({
    "Last", "Bid", "Offer", "Change", "High", "Low", "Open", "Close", "Time", "Yield", "Ask", "Price",
    "ActiveQuantity", "TradedQuantity", "ExitStopLoss", "ExitTarget", "Duration", "Quantity", "Entered",
    "OpenPrice", "Points", "Profit", "Exited", "ClosePrice", "Interest", "Executed", "Amount", "BarDateTime",
    "Volume",
})  # fmt: skip
_QUOTE, _ORDER, _POSITION, _TRADE, _DESK, _BAR = (
    _Shape(m) for m in (QuoteModel, OrderModel, PositionModel, TradeModel, DeskModel, BarModel)
)
_HEAD = (
    f"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:tns=\"{NS}\" xmlns:soap=\"{SOAP_ENV}\"><soap:Body>"
)
_TAIL = "</soap:Body></soap:Envelope>"
_EMPTY = (
    f"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:soap=\"{SOAP_ENV}\"><soap:Body/></soap:Envelope>"
)


def reply(result: str | None) -> list[bytes]:
    """The response envelope around the bare result element (None: a void operation's empty Body)."""
    return [_EMPTY.encode() if result is None else (_HEAD + result + _TAIL).encode()]


def _array(name: str, records: list[str]) -> str:
    return f"<tns:{name}>{''.join(records)}</tns:{name}>" if records else f"<tns:{name}/>"


class _Writer:
    """Platform records written straight to the reply's XML, as spyne would write the models.

    spyne reads the arguments and writes the faults; building a model instance per record and
    serializing it through lxml cost 0.2 ms per record, so the service methods write the finished
    bytes (`ctx.out_string`, spyne's own way to override its output). Field names and order
    come from the spyne models; values are formatted as before (instrument digits, hidden columns
    left out); the wire tests hold the bytes to what spyne wrote.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        # A closed position never changes, and the platform hands out one sealed copy of it per
        # generation (Platform.get_positions): its XML is kept by that copy's identity, for the columns
        # shown. The leading run of closed positions (most of them on a long backtest) is kept as one
        # list, recognised by one list comparison, so a bot polling GetPositions does not have every
        # position it ever held looked at again on each call.
        self._kept_for: tuple[int, object] = (-1, None)  # (platform generation, columns)
        self._closed: dict[int, tuple[Position, str]] = {}
        self._run: list[Position] = []
        self._run_xml: list[str] = []
        # Trades never change either, and come as one sealed copy each (Platform.get_trades): their
        # XML is kept the same way, the whole list being one run.
        self._trades_for: tuple[int, object] = (-1, None)
        self._trade_run: list[Trade] = []
        self._trade_xml: list[str] = []
        self._lock = threading.Lock()  # the caches are shared by the server's threads

    def _pricers(self) -> Any:
        """instrument -> a function writing its prices with the instrument's digits (one lookup each)."""
        cache: dict[str, Any] = {}

        def pricer(instrument: str) -> Any:
            p = cache.get(instrument)
            if p is None:
                inst = self.platform.instruments.get(instrument.lower())
                quantum = inst.quantum if inst is not None else None
                if quantum is None:
                    p = lambda v: None if v is None else plain(v)  # noqa: E731
                else:
                    p = lambda v: None if v is None else plain(v.quantize(quantum))  # noqa: E731
                cache[instrument] = p
            return p

        return pricer

    def quote(self, instrument: str, q: Quote) -> str:
        p = self._pricers()(instrument)
        return _QUOTE.write(_QUOTE.columns(self.platform.visible("Rates")), {
            "Last": p(q.last), "Bid": p(q.bid), "Offer": p(q.offer), "Change": p(q.change), "High": p(q.high),
            "Low": p(q.low), "Open": p(q.open), "Close": p(q.close), "Time": q.time.strftime("%H:%M:%S"),
            "Currency": q.currency, "Yield": None if q.yield_ is None else plain(q.yield_), "Ask": p(q.ask),
        })  # fmt: skip

    def orders(self, orders: list[Order]) -> str:
        columns, pricer, write = _ORDER.columns(self.platform.visible("Orders")), self._pricers(), _ORDER.write
        records = []
        for o in orders:
            p = pricer(o.instrument)
            records.append(write(columns, {
                "OrderID": o.order_id, "Desk": o.desk, "Instrument": o.instrument, "Side": o.side, "Phase": o.phase,
                "PriceType": o.price_type, "Price": p(o.price), "ActiveQuantity": _qty(o.active_quantity),
                "TradedQuantity": _qty(o.traded_quantity), "ExitStopLoss": p(o.exit_stop_loss),
                "ExitTarget": p(o.exit_target), "Status": o.status, "PositionID": o.position_id,
                "Currency": o.currency, "Duration": _dt(o.duration), "DurationType": o.duration_type,
                "Quantity": _qty(o.quantity), "QuantityType": o.quantity_type, "Text": o.text,
                "Entered": _dt(o.entered),
            }))  # fmt: skip
        return _array("Orders", records)

    def positions(self, positions: list[Position]) -> str:
        columns = _POSITION.columns(self.platform.visible("Positions"))
        with self._lock:
            kept_for = (self.platform.generation, columns)
            if kept_for[0] != self._kept_for[0] or columns is not self._kept_for[1] or len(self._closed) > 100_000:
                self._kept_for, self._closed, self._run, self._run_xml = kept_for, {}, [], []
            run, closed = self._run, self._closed
            n = len(run)
            if len(positions) < n or positions[:n] != run:  # identical objects: compared at C speed
                del run[:], self._run_xml[:]
                n = 0
            records = self._run_xml.copy()
            leading = True
            for x in positions[n:]:
                if x.status != CLOSED:
                    leading = False
                    records.append(self._position(columns, x))
                    continue
                found = closed.get(id(x))
                if found is None or found[0] is not x:
                    found = closed[id(x)] = (x, self._position(columns, x))  # x kept: its id stays its own
                records.append(found[1])
                if leading:
                    run.append(x)
                    self._run_xml.append(found[1])
        return _array("Positions", records)

    def _position(self, columns: list[tuple[str, str, str, bool]], x: Position) -> str:
        p = self._pricers()(x.instrument)
        return _POSITION.write(columns, {
            "PositionID": x.position_id, "Desk": x.desk, "Instrument": x.instrument, "Side": x.side,
            "OpenPrice": p(x.open_price), "Currency": x.currency, "Quantity": _qty(x.quantity),
            "Points": plain(x.points), "Profit": _money(x.profit), "ExitStopLoss": p(x.exit_stop_loss),
            "ExitTarget": p(x.exit_target), "Entered": _dt(x.entered), "Exited": _dt(x.exited),
            "Status": x.status, "Text": x.text, "ClosePrice": p(x.close_price), "Interest": _money(x.interest),
        })  # fmt: skip

    def trades(self, trades: list[Trade]) -> str:
        """The Trades array of `trades` as Platform.get_trades gives them (sealed copies: see __init__)."""
        columns, pricer, write = _TRADE.columns(self.platform.visible("Trades")), self._pricers(), _TRADE.write
        with self._lock:
            kept_for = (self.platform.generation, columns)
            if kept_for[0] != self._trades_for[0] or columns is not self._trades_for[1]:
                self._trades_for, self._trade_run, self._trade_xml = kept_for, [], []
            run, xml = self._trade_run, self._trade_xml
            n = len(run)
            if len(trades) < n or trades[:n] != run:  # the same sealed copies: compared at C speed
                del run[:], xml[:]
                n = 0
            for t in trades[n:]:
                text = write(columns, {
                    "TradeID": t.trade_id, "Desk": t.desk, "Instrument": t.instrument, "Side": t.side,
                    "Phase": t.phase, "Price": pricer(t.instrument)(t.price), "Quantity": _qty(t.quantity),
                    "Executed": _dt(t.executed), "Status": t.status, "Currency": t.currency, "Text": t.text,
                    "OrderID": t.order_id,
                })  # fmt: skip
                run.append(t)
                xml.append(text)
            return _array("Trades", xml.copy())

    def desks(self, desks: list[tuple[str, str, Decimal]]) -> str:
        columns = _DESK.columns()
        return _array(
            "Desks", [_DESK.write(columns, {"Name": d, "Currency": c, "Amount": _money(a)}) for d, c, a in desks]
        )

    def bars(self, instrument: str, bars: list[Bar]) -> str:
        p, columns = self._pricers()(instrument), _BAR.columns()
        records = [
            _BAR.write(
                columns,
                {
                    "BarDateTime": _dt(b.start),
                    "Open": p(b.open),
                    "High": p(b.high),
                    "Low": p(b.low),
                    "Close": p(b.close),
                    "Volume": str(b.volume),
                },
            )  # fmt: skip
            for b in bars
        ]
        return _array("Bars", records)


def _platform(ctx: Any) -> Platform:
    return ctx.app.platform  # type: ignore[no-any-return]


def _call(ctx: Any, fn: Any, *args: Any) -> Any:
    """Run a platform call; a refusal becomes a SOAP Client fault naming the field and value."""
    try:
        return fn(*args)
    except StreamsterError as exc:
        ctx.refusal = exc  # the journal takes its reason, when it has one
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
        ctx.out_string = reply(ctx.app.writer.quote(Instrument, quote))

    @rpc(_returns=Array(OrderModel), _out_variable_name="Orders")
    def GetOrders(ctx):  # noqa: N802
        ctx.out_string = reply(ctx.app.writer.orders(_call(ctx, _platform(ctx).get_orders)))

    @rpc(_returns=Array(TradeModel), _out_variable_name="Trades")
    def GetTrades(ctx):  # noqa: N802
        ctx.out_string = reply(ctx.app.writer.trades(_call(ctx, _platform(ctx).get_trades)))

    @rpc(_returns=Array(PositionModel), _out_variable_name="Positions")
    def GetPositions(ctx):  # noqa: N802
        ctx.out_string = reply(ctx.app.writer.positions(_call(ctx, _platform(ctx).get_positions)))

    @rpc(_returns=Array(DeskModel), _out_variable_name="Desks")
    def GetDesks(ctx):  # noqa: N802
        ctx.out_string = reply(ctx.app.writer.desks(_call(ctx, _platform(ctx).get_desks)))

    @rpc(_text, _text, _text, _returns=Array(BarModel), _out_variable_name="Bars")
    def GetBars(ctx, Instrument, Period, Options):  # noqa: N802,N803
        bars = _call(ctx, _platform(ctx).get_bars, Instrument, Period, Options)
        ctx.out_string = reply(ctx.app.writer.bars(Instrument, bars))

    @rpc(_returns=Unicode, _out_variable_name="LastMessage")
    def GetLastMessage(ctx):  # noqa: N802
        message = _call(ctx, _platform(ctx).get_last_message)
        ctx.out_string = reply(None if message is None else f"<tns:LastMessage>{_escape(message)}</tns:LastMessage>")

    @rpc(OrderModel.customize(min_occurs=0))
    def SendOrder(ctx, Order):  # noqa: N802,N803
        _call(ctx, _platform(ctx).send_order, _object(Order))
        ctx.out_string = reply(None)

    @rpc(OrderModel.customize(min_occurs=0))
    def ChangeOrder(ctx, Order):  # noqa: N802,N803
        _call(ctx, _platform(ctx).change_order, _object(Order))
        ctx.out_string = reply(None)

    @rpc(_text)
    def CancelOrder(ctx, OrderID):  # noqa: N802,N803
        _call(ctx, _platform(ctx).cancel_order, OrderID)
        ctx.out_string = reply(None)

    @rpc(PositionModel.customize(min_occurs=0))
    def ChangePosition(ctx, Position):  # noqa: N802,N803
        _call(ctx, _platform(ctx).change_position, _object(Position))
        ctx.out_string = reply(None)

    @rpc(_text)
    def ClosePosition(ctx, PositionID):  # noqa: N802,N803
        _call(ctx, _platform(ctx).close_position, PositionID)
        ctx.out_string = reply(None)


class BareSoap11(Soap11):
    """SOAP 1.1 as the Streamster service writes its faults (and reads its arguments, `SoapService`)."""

    # Faults say soap:Client / soap:Server (the contract's words; PHP shows the text as sent).
    soap_env = "soap"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._attrs: dict[Any, Any] = {}
        super().__init__(*args, **kwargs)

    def get_cls_attrs(self, cls: Any) -> Any:
        # spyne keeps these in a WeakKeyDictionary and logs its size on every lookup, four times a
        # call; the service's few classes live as long as the process: a plain dict (bounded all the same).
        found = self._attrs.get(cls)
        if found is None:
            found = super().get_cls_attrs(cls)
            if len(self._attrs) < 1024:
                self._attrs[cls] = found
        return found

    def fault_to_parent(self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *args: Any, **kwargs: Any) -> Any:
        # Every fault carries an (empty) <detail/>: it concerns the Body (SOAP 1.1 §4.4; see fault_xml).
        if inst.detail is None:
            inst.detail = ""
        return super().fault_to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)


class _Transport:
    """What spyne's per-call context knows of the transport (nothing: the wire has read the request)."""

    def __init__(self, parent: Any, transport: Any) -> None:
        self.parent, self.itself, self.app = parent, transport, transport.app
        self.req_env: dict[str, Any] = {}


class _Context(MethodContext):  # type: ignore[misc]
    TransportContext = _Transport


class _FaultWriter(ServerBase):  # type: ignore[misc]
    """spyne's server, used for what only it writes: the fault envelopes."""

    transport = "http://schemas.xmlsoap.org/soap/http"

    def write(self, fault: Fault) -> bytes:
        """The SOAP envelope of `fault`, as spyne serializes it."""
        ctx = _Context(self, MethodContext.SERVER)
        ctx.out_error = fault
        self.get_out_string(ctx)
        body = b"".join(ctx.out_string)
        # spyne's contexts refer to each other (and to the transport, the protocols, the documents):
        # emptied here, a call leaves no cycles for the collector; spyne's close() would instead run
        # a full gc.collect() once a second, inside a request.
        for part in ("inprot_ctx", "outprot_ctx", "protocol", "transport", "event", "aux"):
            inner = ctx.__dict__.get(part)
            if inner is not None and hasattr(inner, "__dict__"):
                inner.__dict__.clear()  # a protocol context's defaultdict holds a closure over itself
        ctx.__dict__.clear()
        return body


class _Call:
    """The method context a service method reads: the application, the reply it writes (spyne's own
    `ctx.out_string`) and the platform's refusal, if any."""

    __slots__ = ("app", "out_string", "refusal")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.out_string: list[bytes] | None = None
        self.refusal: Exception | None = None


class SoapService:
    """The Streamster service, called on a request the wire has parsed and named.

    Every operation takes the same way: spyne's deserializer reads the arguments from the Body's
    parts into the operation's argument model (what spyne's own pipeline does after finding the
    method: the parts are matched by local name, text as sent, a missing part None), the service
    method calls the platform and writes the reply (`_Writer`), and an exception becomes the fault
    spyne writes. spyne's request contexts, its WSGI layer and its envelope handling are not run:
    the wire has done that work once, with a hardened parser.
    """

    def __init__(self, platform: Platform | Any) -> None:
        # `platform` is the Platform, or what stands in front of it for API calls (the controller's
        # ApiCalls: the lockstep clock and the end of a history, mock_streamster/lockstep.py).
        app = Application(
            [StreamsterApi], tns=NS, name="StreamsterApi", in_protocol=BareSoap11(), out_protocol=BareSoap11()
        )
        nsmap = app.interface.nsmap
        nsmap.pop("soap11env", None)
        nsmap["soap"] = SOAP_ENV
        app.platform = platform  # type: ignore[attr-defined]
        app.writer = _Writer(platform)  # type: ignore[attr-defined]
        self.app = app
        self._faults = _FaultWriter(app)
        self._read = app.in_protocol.complex_from_element
        # operation -> (service method, argument model, argument names in order)
        self._methods: dict[str, tuple[Any, Any, tuple[str, ...]]] = {}
        for d in app.interface.method_id_map.values():
            names = tuple(d.in_message._type_info)
            d.in_message.get_deserialization_instance = _blank(names)  # the arguments are text or models
            self._methods[d.name] = (d.function, d.in_message, names)

    def dispatch(self, operation: str, document: etree._Element) -> tuple[int, bytes, Exception | None]:
        """(HTTP status, the reply envelope, the refusal) for `operation` (canonical) called with the parsed
        request `document` (a SOAP 1.1 Envelope with a Body)."""
        function, message, names = self._methods[operation]
        ctx = _Call(self.app)
        try:
            arguments = self._read(ctx, message, document.find(f"{{{SOAP_ENV}}}Body"))
            function(ctx, *[getattr(arguments, name, None) for name in names])
            if ctx.out_string is None:
                raise RuntimeError(f"the service method {operation} wrote no reply")
        except Exception as exc:  # spyne writes the fault, as its pipeline does for what a method raises
            fault = _as_fault(exc)
            return 500, self._faults.write(fault), ctx.refusal or (fault if _is_client(fault) else None)
        return 200, b"".join(ctx.out_string), None


def _is_client(fault: Fault) -> bool:
    return fault.faultcode == "Client" or fault.faultcode.startswith("Client.")


def _as_fault(exc: Exception) -> Fault:
    """What spyne's Application.process_request makes of an exception a service method raised
    (and how it logs it)."""
    from spyne.application import get_fault_string_from_exception
    from spyne.application import logger as app_log
    from spyne.application import logger_client, logger_server

    if isinstance(exc, Fault):
        if _is_client(exc):
            logger_client.exception(exc, exc_info=exc)
        else:
            app_log.exception(exc, exc_info=exc)
        return exc
    logger_server.critical(exc, exc_info=exc)
    return Fault("Server", get_fault_string_from_exception(exc))


# ------------------------------------------------------------------ SOAP faults and the operation of a request


def fault_xml(code: str, text: str) -> bytes:
    """A SOAP 1.1 Fault envelope, with the (empty) detail element an ASMX-style service sends.

    SOAP 1.1 §4.4 reads a fault without <detail> as one about the headers: .NET clients then raise
    SoapHeaderException instead of plain SoapException. Every fault here concerns the request itself.
    """
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{code}</faultcode><faultstring>{escape(text)}</faultstring><detail/>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


class BadRequestError(Exception):
    """A request refused before dispatch: HTTP status and a Client fault text."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__(text)
        self.status = status


def action_name(action: str) -> str:
    """The operation name a SOAPAction header carries (its last path or fragment part; '' for none)."""
    name = action.strip().strip('"').strip()
    return re.split(r"[/#]", name)[-1] if name else ""


def infer_operation(body: etree._Element | None) -> str:
    """The operation a bare body implies (used when SOAPAction is missing)."""
    parts = [] if body is None else [etree.QName(p).localname for p in body if isinstance(p.tag, str)]
    if not parts:
        raise BadRequestError(
            "400 Bad Request", "The request has no SOAPAction and an empty Body: the operation is unknown."
        )
    first = parts[0]
    if first == "Instrument":
        return "GetBars" if "Period" in parts else "GetQuote"
    if first == "Order":
        order = body[0]  # type: ignore[index]
        has_id = any(etree.QName(c).localname == "OrderID" and (c.text or "").strip() for c in order)
        return "ChangeOrder" if has_id else "SendOrder"
    guesses = {"OrderID": "CancelOrder", "PositionID": "ClosePosition", "Position": "ChangePosition"}
    if first in guesses:
        return guesses[first]
    raise BadRequestError(
        "400 Bad Request", f"The request has no SOAPAction and its Body element {first!r} names no operation."
    )


def operation_of(action: str | None, document: etree._Element) -> str:
    """The operation of a SOAP request: its SOAPAction header, else what its Body implies."""
    if action is not None:
        name = action_name(action)
        if name:
            operation = canonical(name)
            if operation is None:
                raise BadRequestError(
                    "500 Internal Server Error",
                    f"SOAPAction {action!r} is not an operation of the Streamster API ({', '.join(OPERATIONS)}).",
                )
            return operation
    return infer_operation(document.find(f"{{{SOAP_ENV}}}Body"))
