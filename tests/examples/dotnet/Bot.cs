// The .NET bot of docs/how-to/php-dotnet.md, compiled and run against a served emulator by tests/test_docs.py.
using System;

public static class Bot {
    public static int Main() {
        StreamsterApi api = new StreamsterApi();      // as in the samples
        Quote q = api.GetQuote("EUR/USD");
        Console.WriteLine(q.Bid);
        Order o = new Order();
        o.Instrument = "EUR/USD"; o.Desk = "Virtual Forex";
        o.Quantity = 10; o.QuantitySpecified = true;  // optional decimals carry a ...Specified flag
        api.SendOrder(o);
        foreach (Position p in api.GetPositions()) Console.WriteLine(p.PositionID + " " + p.Status);
        return 0;
    }
}
