<?php
// An SMA(10/20) crossover bot in the style of the Streamster API's PHP samples (SoapClient,
// SOAP_SINGLE_ELEMENT_ARRAYS, arrays for orders), as one would run it on the real platform. Usage:
//   php sma_cross.php [POLL_SECONDS=3600] [WSDL_URL (default: $STREAMSTER_WSDL)]
// Every poll it reads the EUR/USD quote; a quote whose time has not moved is no new price (the
// market is closed). When the 10-poll average of the bids crosses above the 20-poll average it
// closes its SELL positions and buys 10, when it crosses below it closes its BUY positions and
// sells 10. A SoapFault ends the run: it prints a JSON summary as its last line and exits 0 when
// the fault says the price history ended (a backtest is over), 1 otherwise.
// Backtested by `make example-backtest` (mock-streamster backtest, one GetQuote per hourly bar).
$poll = (float)($argv[1] ?? 3600);
$wsdl = ($argv[2] ?? "") ?: (getenv("STREAMSTER_WSDL") ?: "http://127.0.0.1:8018/service.wsdl");
$instrument = "EUR/USD";
$desk = "Virtual Forex";
$quantity = 10;
$api = new SoapClient($wsdl, array('features' => SOAP_SINGLE_ELEMENT_ARRAYS, 'cache_wsdl' => WSDL_CACHE_NONE));

function average($values, $n, $skip_last) {
    $window = array_slice($values, $skip_last ? -$n - 1 : -$n, $n);
    return array_sum($window) / $n;
}

function positions($api) {
    $r = $api->GetPositions();
    return property_exists($r, "Position") ? $r->Position : array();
}

$closes = array(); $last_time = null;
$polls = 0; $sent = 0; $closed_by_bot = 0; $ended = "";
while (true) {
    try {
        $q = $api->GetQuote($instrument);
        $polls++;
        if ($q->Time !== $last_time) {  // a new price: one more close
            $last_time = $q->Time;
            $closes[] = (float)$q->Bid;
            $closes = array_slice($closes, -21);
            if (count($closes) == 21) {
                $fast = average($closes, 10, false); $slow = average($closes, 20, false);
                $fast_before = average($closes, 10, true); $slow_before = average($closes, 20, true);
                $side = null;
                if ($fast_before < $slow_before && $fast > $slow) $side = "BUY";
                if ($fast_before > $slow_before && $fast < $slow) $side = "SELL";
                if ($side !== null) {
                    foreach (positions($api) as $n => $p) {
                        if ($p->Status == "Open" && $p->Instrument == $instrument && $p->Side != $side) {
                            $api->ClosePosition($p->PositionID);
                            $closed_by_bot++;
                        }
                    }
                    $api->SendOrder(array("Instrument" => $instrument, "Desk" => $desk, "Side" => $side,
                        "Quantity" => $quantity, "Text" => "sma-cross-php"));
                    $sent++;
                    printf("%s %s %d %s at %s\n", $q->Time, $side, $quantity, $instrument, $q->Bid);
                }
            }
        }
    } catch (SoapFault $e) {
        $ended = $e->getMessage();
        printf("stopping: %s\n", $ended);
        break;
    }
    if ($poll > 0) usleep((int)($poll * 1000000));
}
echo json_encode(array("bot" => "php", "polls" => $polls, "orders_sent" => $sent, "closed_by_bot" => $closed_by_bot,
    "ended" => $ended)), "\n";
exit(strpos($ended, "price history ended") !== false ? 0 : 1);
