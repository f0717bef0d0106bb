<?php
// Shaped like the vendor's curl sample: POST JSON for the token, paste the raw response body into
// the passkey header, then GET the balance and the open trades. Base URL and login come as args.
$apiUrl = $argv[1];
$Login = (int)$argv[2];
$apiPassword = $argv[3];
$apiAuthenticationMethod = 'api/Authentication/RequestClientApiToken';

$data = array('Login' => $Login, 'Password' => $apiPassword);
$ch = curl_init($apiUrl . $apiAuthenticationMethod);
curl_setopt($ch, CURLOPT_CUSTOMREQUEST, "POST");
curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($data));
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_HTTPHEADER, array('Content-Type: application/json'));
$token = curl_exec($ch);
$tokenStatus = curl_getinfo($ch, CURLINFO_HTTP_CODE);
curl_close($ch);

function apiGet($url, $token) {
    $ch = curl_init($url);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($ch, CURLOPT_HTTPHEADER, array('passkey: ' . $token));  // the raw body, quotes included
    $result = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_HTTP_CODE);
    curl_close($ch);
    return array($status, $result);
}

list($balanceStatus, $balance) = apiGet($apiUrl . 'client/RequestBalanceInformation/' . $Login, $token);
list($tradesStatus, $trades) = apiGet($apiUrl . 'client/RequestOpenTrades/' . $Login, $token);
$b = json_decode($balance, true);
$t = json_decode($trades, true);
$rows = array();
if (is_array($t)) foreach ($t as $trade) {
    $rows[] = array('Symbol' => $trade['Symbol'], 'Type' => $trade['Type'] == 1 ? 'BUY' : 'SELL', 'Volume' => $trade['Volume'], 'Profit' => $trade['Profit']);
}
echo json_encode(array(
    'token_status' => $tokenStatus, 'token' => $token,
    'balance_status' => $balanceStatus, 'login' => $b['Login'] ?? null, 'balance' => $b['Balance'] ?? null,
    'equity' => $b['Equity'] ?? null, 'equity_minus_balance' => isset($b['Equity']) ? round($b['Equity'] - $b['Balance'], 2) : null,
    'trades_status' => $tradesStatus, 'trades' => $rows, 'denied' => $balance === '"Access denied"',
));
