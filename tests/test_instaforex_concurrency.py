"""8 threads requesting tokens and reading data for different logins: no answer carries another's data."""

from __future__ import annotations

import threading

import requests

from mock_instaforex import InstaForexMock
from mock_instaforex.generate import generate_data

THREADS = 8
ROUNDS = 30


def test_concurrent_logins_never_see_each_others_data() -> None:
    data = generate_data(seed=4, accounts=THREADS, partners=0, signals=0)
    for account in data["accounts"]:  # every account reachable with a known password
        account.update(level="password", api_password=f"pw-{account['login']}")
    with InstaForexMock(accounts=data) as m:
        expected = {a.login: ({t.ticket for t in a.open_trades}, str(a.balance)) for a in m.store.accounts.values()}
        errors: list[str] = []
        barrier = threading.Barrier(THREADS)

        def worker(login: int) -> None:
            http = requests.Session()
            barrier.wait()
            try:
                for _ in range(ROUNDS):
                    r = http.post(m.url + "api/Authentication/RequestClientApiToken",
                                  json={"Login": login, "Password": f"pw-{login}"}, timeout=10)  # fmt: skip
                    assert r.status_code == 200, r.text
                    key = r.json()
                    balance = http.get(
                        m.url + f"client/RequestBalanceInformation/{login}", headers={"passkey": key}, timeout=10
                    ).json()
                    assert balance["Login"] == login, (login, balance)
                    assert f"{balance['Balance']:.2f}" == expected[login][1]
                    trades = http.get(
                        m.url + f"client/RequestOpenTrades/{login}", headers={"passkey": key}, timeout=10
                    ).json()
                    assert {t["Ticket"] for t in trades} == expected[login][0], login
                    summary = http.get(
                        m.url + f"client/RequestAccountSummary/{login}", headers={"passkey": key}, timeout=10
                    ).json()
                    assert summary["Login"] == login
                    other = next(iter(x for x in expected if x != login))
                    assert (
                        http.get(
                            m.url + f"client/RequestBalanceInformation/{other}", headers={"passkey": key}, timeout=10
                        ).status_code
                        == 403
                    )
            except AssertionError as exc:
                errors.append(f"{login}: {exc}")

        threads = [threading.Thread(target=worker, args=(login,)) for login in expected]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[:3]
        for login, account in m.store.accounts.items():  # every token request was recorded, for its own login
            assert sum(1 for e in account.login_history if e.source == "ClientApi") == ROUNDS, login
