<?php
// The vendor's PHP samples, made to run on PHP 8 (new stdClass for structures), against a WSDL
// URL given as the first argument. Prints what it saw as JSON for the Python test to check.
$api = new SoapClient($argv[1], array('features' => SOAP_SINGLE_ELEMENT_ARRAYS, 'cache_wsdl' => WSDL_CACHE_NONE));
$out = array();

// GetQuote and its fields, as the sample loops over them.
$q = $api->GetQuote("EUR/USD");
$out['quote_last'] = $q->Last;
$out['quote_fields'] = array();
foreach ($q as $field => $value) { $out['quote_fields'][$field] = $value; }

// GetDesks.
$r = $api->GetDesks();
$out['desks'] = array();
if (property_exists($r, "Desk")) foreach ($r->Desk as $n => $Desk) $out['desks'][] = array($Desk->Name, $Desk->Currency, $Desk->Amount);

function positions($api) {
    $r = $api->GetPositions();
    if (!property_exists($r, "Position")) return array();
    if (!is_array($r->Position)) throw new Exception("Position is not an array");
    return $r->Position;
}

// GetPositions with zero, one and many positions.
$out['positions_zero'] = count(positions($api));
$out['send_returns'] = $api->SendOrder(array("Instrument" => "EUR/USD", "Desk" => "Virtual Forex", "Quantity" => 10));
$one = positions($api);
$out['positions_one'] = count($one);
$out['position_one'] = $one[0];
$api->SendOrder(array("Instrument" => "GBP/JPY", "Side" => "SELL", "Desk" => "Virtual Forex", "Quantity" => 512, "Text" => "API"));
$api->SendOrder(array("Instrument" => "Dow Jones", "Side" => "BUY", "Desk" => "Virtual Forex", "Quantity" => 1, "PriceType" => "Market"));
$many = positions($api);
$out['positions_many'] = count($many);

// A limit order, then ChangeOrder with a stdClass as in the sample, then CancelOrder.
$api->SendOrder(array("Instrument" => "EUR/USD", "Side" => "BUY", "PriceType" => "LIMIT", "Price" => 1.05, "Desk" => "Virtual Forex", "Quantity" => 10, "ExitTarget" => 1.1));
$orders = $api->GetOrders();
$working = null;
foreach ($orders->Order as $n => $info) if ($info->Status == "Working") $working = $info;
$o = new stdClass;
$o->OrderID = $working->OrderID;
$o->Price = 1.04;
$o->PriceType = "LIMIT";
$o->Quantity = 5;
$api->ChangeOrder($o);
foreach ($api->GetOrders()->Order as $n => $info) if ($info->OrderID == $working->OrderID) $out['changed'] = $info;
$api->CancelOrder($working->OrderID);
foreach ($api->GetOrders()->Order as $n => $info) if ($info->OrderID == $working->OrderID) $out['cancelled_status'] = $info->Status;

// ChangePosition, as in the sample.
$position = new stdClass;
$position->PositionID = $one[0]->PositionID;
$position->ExitStopLoss = 1.07;
$position->ExitTarget = 1.1;
$position->Text = "hello world";
$api->ChangePosition($position);
foreach (positions($api) as $n => $p) if ($p->PositionID == $position->PositionID) $out['changed_position'] = $p;

// ClosePosition, as the Java client does for open positions.
$api->ClosePosition($one[0]->PositionID);
foreach (positions($api) as $n => $p) if ($p->PositionID == $one[0]->PositionID) $out['closed_position'] = $p;
foreach ($api->GetDesks()->Desk as $n => $Desk) if ($Desk->Name == "Virtual Forex") $out['desk_after'] = $Desk->Amount;

// GetBars with "5 minutes" and "f".
$r = $api->GetBars("EUR/USD", "5 minutes", "f");
$out['bars'] = property_exists($r, "Bar") ? count($r->Bar) : 0;
$out['bar_first'] = $r->Bar[0];
$out['bar_last'] = $r->Bar[count($r->Bar) - 1];

// GetLastMessage, then a SoapFault on bad input, then the fault text as the last message.
$out['message_empty'] = $api->GetLastMessage();
try {
    $api->SendOrder(array("Instrument" => "EUR/USD", "Desk" => "Virtual Forex", "Quantity" => 0));
    $out['fault'] = null;
} catch (SoapFault $e) {
    $out['fault'] = array('code' => $e->faultcode, 'message' => $e->getMessage());
}
$out['message_after_fault'] = $api->GetLastMessage();
$out['message_cleared'] = $api->GetLastMessage();
try {
    $api->GetQuote("No Such Thing");
} catch (SoapFault $e) {
    $out['quote_fault'] = $e->getMessage();
}
echo json_encode($out);
