<?php
// A moving-average cross bot in the style of the Streamster API's PHP samples (SoapClient,
// SOAP_SINGLE_ELEMENT_ARRAYS, arrays for orders). Usage:
//   php ma_cross.php WSDL_URL [VIRTUAL_MINUTES=240] [POLL_SECONDS=0.5]
// Each poll reads 5-minute bars with GetBars; when the 5-bar average crosses the 20-bar average
// it closes the opposite position and sends a market order with a stop loss and a target.
// It stops once the chart has moved VIRTUAL_MINUTES past where it started, then reconciles the
// desk (start + realised profit = GetDesks) and prints a JSON summary as its last line.
$wsdl = $argv[1] ?? "http://127.0.0.1:8018/service.wsdl";
$minutes = (int)($argv[2] ?? 240);
$poll = (float)($argv[3] ?? 0.5);
$instrument = "EUR/USD";
$desk = "Virtual Forex";
$quantity = 10;
$pip = 0.0001;
$api = new SoapClient($wsdl, array('features' => SOAP_SINGLE_ELEMENT_ARRAYS, 'cache_wsdl' => WSDL_CACHE_NONE));

function average($values, $n) { return array_sum(array_slice($values, -$n)) / $n; }

function desk_amount($api, $desk) {
    foreach ($api->GetDesks()->Desk as $n => $Desk) if ($Desk->Name == $desk && $Desk->Currency == "USD") return (float)$Desk->Amount;
    throw new Exception("desk $desk not found");
}

function positions($api) {
    $r = $api->GetPositions();
    return property_exists($r, "Position") ? $r->Position : array();
}

$start_amount = desk_amount($api, $desk);
$sent = 0; $closed_by_bot = 0; $errors = 0;
$previous = null; $started = null; $now = null;
while (true) {
    $r = $api->GetBars($instrument, "5 Minutes", "f");
    $bars = $r->Bar;
    $now = strtotime($bars[count($bars) - 1]->BarDateTime . " UTC");
    if ($started === null) $started = $now;
    if ($now - $started >= $minutes * 60) break;
    $closes = array();
    foreach (array_slice($bars, 0, -1) as $n => $Bar) $closes[] = (float)$Bar->Close;  // completed bars only
    $signal = average($closes, 5) > average($closes, 20) ? "BUY" : "SELL";
    if ($previous !== null && $signal != $previous) {
        foreach (positions($api) as $n => $p) {
            if ($p->Status == "Open" && $p->Instrument == $instrument && $p->Side != $signal) {
                $api->ClosePosition($p->PositionID);
                $closed_by_bot++;
            }
        }
        $q = $api->GetQuote($instrument);
        $price = $signal == "BUY" ? (float)$q->Offer : (float)$q->Bid;
        $sign = $signal == "BUY" ? 1 : -1;
        try {
            $api->SendOrder(array("Instrument" => $instrument, "Desk" => $desk, "Side" => $signal, "Quantity" => $quantity,
                "ExitStopLoss" => round($price - $sign * 15 * $pip, 5), "ExitTarget" => round($price + $sign * 25 * $pip, 5),
                "Text" => "ma-cross"));
            $sent++;
            printf("%s %s %d %s at %.5f\n", gmdate("Y-m-d H:i", $now), $signal, $quantity, $instrument, $price);
        } catch (SoapFault $e) {
            $errors++;
            printf("%s order refused: %s (last message: %s)\n", gmdate("Y-m-d H:i", $now), $e->getMessage(), $api->GetLastMessage());
        }
    }
    $previous = $signal;
    usleep((int)($poll * 1000000));
}

// The clock keeps running: a stop may fire between two reads, so read until they agree.
function closed_count($api) { $c = 0; foreach (positions($api) as $n => $p) if ($p->Status != "Open") $c++; return $c; }
for ($try = 0; $try < 5; $try++) {
    $realised = 0.0; $open = 0; $closed = 0; $stops = 0; $targets = 0;
    foreach (positions($api) as $n => $p) {
        if ($p->Status == "Open") { $open++; continue; }
        $closed++;
        $realised += (float)$p->Profit;
    }
    $amount = desk_amount($api, $desk);
    if (closed_count($api) == $closed) break;
}
foreach ($api->GetOrders()->Order ?? array() as $n => $o) {
    if ($o->Phase == "Exit" && $o->PriceType == "STOP") $stops++;
    if ($o->Phase == "Exit" && $o->PriceType == "LIMIT") $targets++;
}
$reconciled = abs($start_amount + $realised - $amount) < 0.005;
printf("desk %s: %.2f + realised %.2f = %.2f; GetDesks says %.2f: %s\n", $desk, $start_amount, $realised,
    $start_amount + $realised, $amount, $reconciled ? "reconciled" : "MISMATCH");
echo json_encode(array("bot" => "php", "orders_sent" => $sent, "closed_by_bot" => $closed_by_bot, "stops" => $stops,
    "targets" => $targets, "closed" => $closed, "open" => $open, "refused" => $errors, "realised" => round($realised, 2),
    "desk" => $amount, "reconciled" => $reconciled, "virtual_minutes" => ($now - $started) / 60)), "\n";
exit($reconciled ? 0 : 1);
