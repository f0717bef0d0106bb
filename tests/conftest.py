"""Shared fixtures and the skip-or-fail rule for optional environments.

The emulators come from the published plugin's fixtures (`streamster_mock`, `instaforex_mock`, ...),
as a bot author's suite gets them."""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from mock_instaforex import InstaForexMock

from .ifxutil import Api

pytest_plugins = ["pytester"]
collect_ignore = ["smoke"]  # the installed wheel's suite: `make test-wheel` runs it outside the checkout

# Hypothesis profiles: `ci` (the default: the whole run well under a minute) and `thorough` (20 times
# the examples; `make test-thorough`, which also prints the statistics). Each run explores other
# examples: one seed a run, drawn at random and printed at the start and the end of the run;
# HYPOTHESIS_SEED=<seed> (or --hypothesis-seed=<seed>) repeats a run's examples. The mutation check
# (tests/test_mutations.py) keeps derandomize=True in its own settings: it hunts the same way every run.
settings.register_profile(
    "ci", max_examples=20, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.register_profile(
    "thorough", max_examples=400, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def require(flag: str, available: bool, reason: str) -> None:
    """Skip when `available` is false, unless the environment variable `flag`=1 demands it: then fail."""
    if available:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 requires it)")
    pytest.skip(reason)


def require_php() -> str:
    """The php binary with the soap extension, or skip/fail."""
    php = shutil.which("php")
    ok = False
    if php:
        import subprocess

        mods = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout.lower().split()
        ok = "soap" in mods and "curl" in mods
    require("REQUIRE_INTEROP", ok, "PHP with the soap and curl extensions is not installed")
    return php or "php"


@pytest.fixture
def api(instaforex_mock: InstaForexMock) -> Api:
    """A client of `instaforex_mock` (the plugin's fixture) that validates every response against /openapi.json."""
    return Api(instaforex_mock.url)


# ----------------------------------------------------------------------------- no secret in any log record
# Every record the suite logs (DEBUG and up, every logger) is kept; at the end none may contain a
# password the suite used or a token an emulator issued. A leak fails the whole run.
# Passwords are found as substrings, so a test's password must be distinctive: a plain word
# ("wrong") is also in the emulator's refusal reasons ("wrong password") and reads as a leak.

SECRETS: set[str] = {"demo-pass", "demo-ip", "demo-partner"}
_RECORDS: list[str] = []


class _Recorder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format still counts, by its raw parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        _RECORDS.append(text)


def _remember_secrets() -> None:
    from broker_mocks.client.instaforex import InstaForexClient
    from mock_instaforex.tokens import TokenStore

    issue, init = TokenStore.issue, InstaForexClient.__init__

    def issue_and_remember(self: TokenStore, *args: Any, **kwargs: Any) -> Any:
        token = issue(self, *args, **kwargs)
        SECRETS.add(token.value)
        return token

    def init_and_remember(self: InstaForexClient, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if len(self._password) >= 4:
            SECRETS.add(self._password)

    TokenStore.issue = issue_and_remember  # type: ignore[method-assign]
    InstaForexClient.__init__ = init_and_remember  # type: ignore[method-assign]


# DEBUG for the code that sees secrets and the HTTP libraries under it; INFO for the rest (spyne's
# DEBUG output alone is hundreds of thousands of records and carries no credentials).
DEBUG_LOGGERS = (
    "client",
    "mock_common",
    "mock_streamster",
    "mock_instaforex",
    "urllib3",
    "requests",
    "zeep",
    "werkzeug",
    "flask",
)


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = os.environ.get("HYPOTHESIS_SEED") or str(random.SystemRandom().randrange(2**32))
    root = logging.getLogger()
    root.addHandler(_Recorder(logging.DEBUG))
    root.setLevel(logging.INFO)
    for name in DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    _remember_secrets()


def _seed_line(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    return f"hypothesis seed {seed}: HYPOTHESIS_SEED={seed} repeats this run's examples"


def pytest_report_header(config: pytest.Config) -> str:
    return _seed_line(config)


def _leaks() -> list[str]:
    # Tokens are 32 hex characters: find those in each record once and look them up in a set;
    # only the (few) passwords are searched for as substrings.
    hex32 = re.compile(r"[0-9a-f]{32}")
    tokens = {s for s in SECRETS if hex32.fullmatch(s)}
    passwords = SECRETS - tokens
    return [r for r in _RECORDS if any(t in tokens for t in hex32.findall(r)) or any(p in r for p in passwords)]


def _servers_left_running() -> list[str]:
    """Emulator threads still serving, and any other non-daemon thread: each is a test that did not stop
    what it started (a non-daemon thread would also keep the interpreter from exiting)."""
    main = threading.main_thread()
    return sorted(
        t.name
        for t in threading.enumerate()
        if t is not main
        and t.is_alive()
        and (t.name.startswith(("mock-streamster-", "mock-instaforex-")) or not t.daemon)
    )


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of the session-scoped fixtures
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    writer = session.config.get_terminal_writer()
    writer.line()  # end pytest's progress line
    writer.line(_seed_line(session.config))
    leaks = _leaks()
    if leaks:
        writer.line(f"SECRET LEAKED INTO A LOG RECORD ({len(leaks)} in all): {leaks[0][:300]!r}", red=True)
        session.exitstatus = 1
    else:
        writer.line(f"no secret in {len(_RECORDS)} log records ({len(SECRETS)} secrets checked)")
    running = _servers_left_running()
    if running:
        writer.line(f"THREADS LEFT RUNNING AFTER THE LAST TEST ({len(running)}): {', '.join(running[:10])}", red=True)
        session.exitstatus = 1
