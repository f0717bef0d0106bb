"""An InstaForex account monitor on the reference client (client.instaforex).

    python -m examples.account_monitor --url http://127.0.0.1:8080/ --login 20000001 --password demo-pass

Every `--interval` seconds it reads the balance, the open trades and the closed trades, reports
trades opened and closed since the last look, and reconciles each balance change with the profit
of the trades closed in between (a change no closed trade explains is reported as a MISMATCH).
Tokens are requested and renewed by the client as they expire; an API failure is reported and
the next poll goes on. After `--polls` looks it prints a JSON summary as its last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from decimal import Decimal

from broker_mocks.client.errors import BrokerError
from broker_mocks.client.instaforex import InstaForexClient

log = logging.getLogger("account_monitor")


def run(api: InstaForexClient, polls: int, interval: float) -> dict[str, object]:
    """Watch the account for `polls` looks; the summary of what was seen."""
    start = api.balance()
    balance = start.balance
    seen_closed = {t.ticket for t in api.closed_trades()}
    open_now = {t.ticket for t in api.open_trades()}
    log.info("login %s: balance %s %s, %d open trades", api.login, balance, start.currency, len(open_now))
    closed_seen: list[int] = []
    changes = mismatches = failures = 0
    for _ in range(polls):
        time.sleep(interval)
        try:
            current = api.balance()
            closed = api.closed_trades()
            opened = {t.ticket for t in api.open_trades()}
        except BrokerError as exc:
            failures += 1
            log.warning("poll failed: %s", exc)
            continue
        new = [t for t in closed if t.ticket not in seen_closed]
        for t in new:
            seen_closed.add(t.ticket)
            closed_seen.append(t.ticket)
            log.info("closed: #%s %s %s lots at %s, profit %s", t.ticket, t.symbol, t.volume, t.close_price, t.profit)
        for ticket in sorted(opened - open_now - {t.ticket for t in new}):
            log.info("opened: #%s", ticket)
        open_now = opened
        if current.balance != balance:
            changes += 1
            explained = sum((t.profit for t in new), Decimal("0.00"))
            ok = current.balance - balance == explained
            mismatches += 0 if ok else 1
            log.info("balance %s -> %s (%+.2f; closed trades %+.2f): %s", balance, current.balance,
                     current.balance - balance, explained, "reconciled" if ok else "MISMATCH")  # fmt: skip
            balance = current.balance
    return {
        "monitor": "instaforex", "login": api.login, "polls": polls, "closed_seen": closed_seen,
        "balance_changes": changes, "mismatches": mismatches, "failed_polls": failures, "balance": str(balance),
        "reconciled": mismatches == 0,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    parser.add_argument("--login", type=int, default=20000001)
    parser.add_argument("--password", default="demo-pass")
    parser.add_argument("--polls", type=int, default=20, help="how many looks before stopping")
    parser.add_argument("--interval", type=float, default=1.0, help="wall-clock seconds between looks")
    parser.add_argument("--token-ttl", type=float, default=5400, help="renew the token after this many seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("broker_mocks.client").setLevel(logging.WARNING)
    api = InstaForexClient(args.url, args.login, args.password, retries=0, token_ttl=args.token_ttl)
    summary = run(api, args.polls, args.interval)
    print(json.dumps(summary), flush=True)
    return 0 if summary["reconciled"] else 1


if __name__ == "__main__":
    sys.exit(main())
