// The vendor's Visual Basic samples, in C#, over the proxy that Mono's `wsdl` generates from the
// served WSDL (class StreamsterApi, its Url taken from soap:address). Prints "key<TAB>value" lines
// for the Python test to check; exits 1 on any unexpected exception.
using System;
using System.Globalization;
using System.Web.Services.Protocols;

public static class Samples {
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    static void Out(string key, object value) {
        string text = value is decimal ? ((decimal)value).ToString(C)
                    : value is DateTime ? ((DateTime)value).ToString("yyyy-MM-ddTHH:mm:ss", C)
                    : value == null ? "<null>" : value.ToString();
        Console.WriteLine(key + "\t" + text);
    }

    static Position Find(StreamsterApi api, string id) {
        foreach (Position p in api.GetPositions()) if (p.PositionID == id) return p;
        return null;
    }

    static Order FindOrder(StreamsterApi api, string id) {
        foreach (Order o in api.GetOrders()) if (o.OrderID == id) return o;
        return null;
    }

    public static int Main() {
        try {
            StreamsterApi api = new StreamsterApi();  // as in the samples: the WSDL's address
            Out("url", api.Url);

            // GetQuote, printing the sample's fields.
            Quote q = api.GetQuote("EUR/USD");
            Out("quote.Last", q.Last);
            Out("quote.Bid", q.Bid);
            Out("quote.Offer", q.Offer);
            Out("quote.Time", q.Time);
            Out("quote.TimeSpecified", q.TimeSpecified);
            Out("quote.Currency", q.Currency);
            Out("quote.YieldSpecified", q.YieldSpecified);

            // GetDesks.
            foreach (Desk d in api.GetDesks()) Out("desk", d.Name + "|" + d.Currency + "|" + d.Amount.ToString(C));

            // GetPositions with zero, one and many positions: an array every time, never null.
            Position[] ap = api.GetPositions();
            Out("positions.zero", ap == null ? -1 : ap.Length);
            Order o = new Order();
            o.Instrument = "EUR/USD";
            o.Desk = "Virtual Forex";
            o.Quantity = 10;
            o.QuantitySpecified = true;
            api.SendOrder(o);
            ap = api.GetPositions();
            Out("positions.one", ap.Length);
            Position first = ap[0];
            Out("position.Side", first.Side);
            Out("position.Quantity", first.Quantity);
            Out("position.Status", first.Status);
            Out("position.OpenPrice", first.OpenPrice);
            Out("position.Entered", first.Entered);
            Out("position.ExitedSpecified", first.ExitedSpecified);

            o = new Order();
            o.Instrument = "GBP/JPY";
            o.Side = "SELL";
            o.Desk = "Virtual Forex";
            o.Quantity = 512;
            o.QuantitySpecified = true;
            o.Text = "API";
            api.SendOrder(o);
            Out("positions.many", api.GetPositions().Length);

            // GetTrades: every fill has its trade.
            Trade[] trades = api.GetTrades();
            Out("trades", trades.Length);
            Out("trade.Executed", trades[0].Executed);

            // A limit order with a target, then ChangeOrder without the target (reset), then CancelOrder.
            o = new Order();
            o.Instrument = "EUR/USD";
            o.Side = "BUY";
            o.PriceType = "LIMIT";
            o.Price = 1.05m;
            o.PriceSpecified = true;
            o.Desk = "Virtual Forex";
            o.Quantity = 10;
            o.QuantitySpecified = true;
            o.ExitTarget = 1.1m;
            o.ExitTargetSpecified = true;
            api.SendOrder(o);
            Order working = null;
            foreach (Order info in api.GetOrders()) if (info.Status == "Working") working = info;
            Out("working.ExitTarget", working.ExitTarget);
            Order change = new Order();
            change.OrderID = working.OrderID;
            change.PriceType = "LIMIT";
            change.Price = 1.04m;
            change.PriceSpecified = true;
            change.Quantity = 5;
            change.QuantitySpecified = true;
            api.ChangeOrder(change);
            Order changed = FindOrder(api, working.OrderID);
            Out("changed.Price", changed.Price);
            Out("changed.ActiveQuantity", changed.ActiveQuantity);
            Out("changed.ExitTargetSpecified", changed.ExitTargetSpecified);
            api.CancelOrder(working.OrderID);
            Out("cancelled.Status", FindOrder(api, working.OrderID).Status);

            // ChangePosition, as in the sample; then one that sets only the stop loss (target reset).
            Position position = new Position();
            position.PositionID = first.PositionID;
            position.ExitStopLoss = 1.07m;
            position.ExitStopLossSpecified = true;
            position.ExitTarget = 1.1m;
            position.ExitTargetSpecified = true;
            position.Text = "hello world";
            api.ChangePosition(position);
            Position p = Find(api, first.PositionID);
            Out("changed.ExitStopLoss", p.ExitStopLoss);
            Out("changed.ExitTarget", p.ExitTarget);
            Out("changed.Text", p.Text);
            position = new Position();
            position.PositionID = first.PositionID;
            position.ExitStopLoss = 1.06m;
            position.ExitStopLossSpecified = true;
            api.ChangePosition(position);
            p = Find(api, first.PositionID);
            Out("rechanged.ExitStopLoss", p.ExitStopLoss);
            Out("rechanged.ExitTargetSpecified", p.ExitTargetSpecified);

            // ClosePosition, then the desk.
            api.ClosePosition(first.PositionID);
            p = Find(api, first.PositionID);
            Out("closed.Status", p.Status);
            Out("closed.Profit", p.Profit);
            Out("closed.ClosePriceSpecified", p.ClosePriceSpecified);
            Out("closed.ExitedSpecified", p.ExitedSpecified);
            foreach (Desk d in api.GetDesks()) if (d.Name == "Virtual Forex") Out("desk.after", d.Amount);

            // GetBars with "5 minutes" and "f" (oldest first).
            Bar[] bars = api.GetBars("EUR/USD", "5 minutes", "f");
            Out("bars", bars.Length);
            Out("bar.first", bars[0].BarDateTime);
            Out("bar.last", bars[bars.Length - 1].BarDateTime);
            Out("bar.first.High", bars[0].High);
            Out("bar.first.Low", bars[0].Low);

            // GetLastMessage, a SoapException on bad input, and its text as the last message.
            Out("message.empty", "[" + api.GetLastMessage() + "]");
            o = new Order();
            o.Instrument = "EUR/USD";
            o.Desk = "Virtual Forex";
            o.Quantity = 0;
            o.QuantitySpecified = true;
            try {
                api.SendOrder(o);
                Out("fault", "none");
            } catch (SoapException e) {
                Out("fault.type", e.GetType().Name);
                Out("fault.code", e.Code.Name);
                Out("fault.message", e.Message);
            }
            Out("message.after", api.GetLastMessage());
            Out("message.cleared", "[" + api.GetLastMessage() + "]");
            try {
                api.GetQuote("No Such Thing");
            } catch (SoapException e) {
                Out("quote.fault", e.Message);
            }
            return 0;
        } catch (Exception e) {
            Console.Error.WriteLine(e);
            return 1;
        }
    }
}
