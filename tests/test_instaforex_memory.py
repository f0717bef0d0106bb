"""InstaForex keeps flat memory: a bounded login history per login, expired tokens dropped."""

from __future__ import annotations

from datetime import datetime

from mock_instaforex import InstaForexMock
from mock_instaforex.errors import AccessDeniedError
from mock_instaforex.store import LOGIN_HISTORY_LIMIT
from mock_instaforex.tokens import MAX_LIVE_PER_LOGIN, TokenStore

from .ifxutil import Api


def test_the_login_history_keeps_the_newest_entries_per_login_refused_requests_included(
    api: Api, instaforex_mock: InstaForexMock
) -> None:
    extra = 25
    for n in range(LOGIN_HISTORY_LIMIT + extra):
        instaforex_mock.clock.advance(1)
        try:
            instaforex_mock.service.request_token("client", {"Login": 20000001, "Password": "wrong" if n % 2 else "demo-pass"},
                                      f"127.0.0.{n % 200 + 1}")  # fmt: skip
        except AccessDeniedError:
            pass
    history = instaforex_mock.store.accounts[20000001].login_history
    assert len(history) == LOGIN_HISTORY_LIMIT
    assert history == sorted(history, key=lambda e: e.time) and history[-1].time == instaforex_mock.service.now()
    key = api.passkey("client", 20000001)  # one more entry: the newest stays, the oldest goes
    served = api.get("client/RequestLoginHistory/20000001?from=0", key).json()
    assert len(served) == LOGIN_HISTORY_LIMIT and served[-1]["Time"] == instaforex_mock.service.now().isoformat()
    assert len(instaforex_mock.store.accounts[20000002].login_history) <= LOGIN_HISTORY_LIMIT  # other logins untouched


def test_a_fixture_with_a_longer_history_keeps_its_newest_entries(instaforex_mock: InstaForexMock) -> None:
    events = [{"time": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}", "ip": "10.0.0.1", "source": "ClientApi"}
              for n in range(LOGIN_HISTORY_LIMIT + 10)]  # fmt: skip
    instaforex_mock.load_accounts({"accounts": [{"login": 20000099, "level": "open", "login_history": events}]})
    history = instaforex_mock.store.accounts[20000099].login_history
    assert len(history) == LOGIN_HISTORY_LIMIT and history[0].time == datetime(2024, 1, 1, 0, 0, 10)


def test_expired_tokens_are_dropped_and_a_login_keeps_a_bounded_number_of_live_ones() -> None:
    tokens = TokenStore(ttl=60, seed=1)
    now = datetime(2024, 1, 1)
    first = tokens.issue(20000001, "client", now)
    tokens.issue(20000002, "client", now)
    assert tokens.expire(20000001, now) == 1 and len(tokens) == 2
    tokens.issue(20000003, "client", now)
    assert len(tokens) == 2 and tokens.find(first.value, now) is None  # the expired one is gone
    later = datetime(2024, 1, 1, 0, 1)
    tokens.issue(20000003, "client", later)
    assert len(tokens) == 1  # every token of `now` expired at 00:01
    frozen = [tokens.issue(20000001, "client", later) for _ in range(MAX_LIVE_PER_LOGIN + 20)]
    assert len(tokens) == MAX_LIVE_PER_LOGIN + 1  # on a frozen clock too
    assert tokens.find(frozen[0].value, later) is None and tokens.find(frozen[-1].value, later) is not None
    assert len(tokens.live(20000001, later)) == MAX_LIVE_PER_LOGIN and len(tokens.live(20000003, later)) == 1
    assert tokens.revoke(20000001) == MAX_LIVE_PER_LOGIN and len(tokens) == 1
