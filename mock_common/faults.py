"""Queued faults: make the next N calls to an operation (or a share of them) misbehave.

`FaultPlan` holds the rules; `inject` is the one place in the request path where they fire, for
both emulators: a delay sleeps and lets the call go on, a drop resets the connection, and every
other kind is answered by the reply the emulator renders for it (a SOAP fault, a JSON message).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("fault", "http", "delay", "drop", "malformed")
#: A WSGI reply: status line, headers, body.
Reply = tuple[str, list[tuple[str, str]], bytes]


@dataclass
class FaultRule:
    """One queued misbehaviour for calls to `target` (an operation or a route)."""

    target: str
    kind: str = "fault"
    times: int | None = 1
    probability: float | None = None
    status: int = 500
    code: str = "Server"
    message: str = "Injected failure"
    seconds: float = 0.0
    fired: int = field(default=0)

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready data."""
        return asdict(self)


class FaultPlan:
    """Thread-safe set of fault rules, matched case-insensitively, drawn from a seeded RNG."""

    def __init__(
        self, seed: int = 0, targets: tuple[str, ...] | None = None, kinds: tuple[str, ...] = FAULT_KINDS
    ) -> None:
        self.kinds = kinds
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seed = seed
        self._rng = random.Random(f"faults:{seed}")
        self._targets = {t.lower(): t for t in targets} if targets else None

    def add(
        self,
        target: str,
        kind: str = "fault",
        times: int | None = 1,
        probability: float | None = None,
        **params: Any,
    ) -> FaultRule:
        """Queue a rule; `times` calls (None = every call) or each call with `probability`."""
        if not isinstance(target, str) or not target:
            raise ValueError(f"fault target must be a non-empty string, not {target!r}")
        if self._targets is not None and target.lower() not in self._targets and target != "*":
            known = ", ".join(sorted(self._targets.values()))
            raise ValueError(f"unknown fault target {target!r}; known: {known}, or *")
        if kind not in self.kinds:
            raise ValueError(f"fault kind must be one of {', '.join(self.kinds)}, not {kind!r}")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError(f"times must be a whole number >= 1 or null, not {times!r}")
        if probability is not None and not 0.0 <= float(probability) <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, not {probability!r}")
        if probability is not None:
            times = None if times == 1 else times
        allowed = {"status", "code", "message", "seconds"}
        unknown = set(params) - allowed
        if unknown:
            raise ValueError(f"unknown fault parameter(s): {', '.join(sorted(unknown))}")
        if "status" in params and not 100 <= int(params["status"]) <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), not {params['status']!r}")
        if "seconds" in params and float(params["seconds"]) < 0:
            raise ValueError(f"seconds must be >= 0, not {params['seconds']!r}")
        canonical = self._targets.get(target.lower(), target) if self._targets else target
        rule = FaultRule(
            target=canonical,
            kind=kind,
            times=times,
            probability=None if probability is None else float(probability),
            **params,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, target: str) -> FaultRule | None:
        """The rule that fires for this call to `target`, if any (consuming one of its times)."""
        with self._lock:
            for rule in self._rules:
                if rule.target != "*" and rule.target.lower() != target.lower():
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                return rule
        return None

    def delays(self) -> bool:
        """Whether a delay is queued (a call it fires on sleeps, so it must not hold up the event loop)."""
        with self._lock:
            return any(rule.kind == "delay" for rule in self._rules)

    def rules(self) -> list[FaultRule]:
        """The rules still queued."""
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Drop every queued rule (the random draws go on where they were)."""
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """Back to the constructor: no rule, and the random draws start again from the seed."""
        with self._lock:
            self._rules.clear()
            self._rng = random.Random(f"faults:{self._seed}")


DROP_KEY = "broker_mocks.drop"  # set in the environ when a drop fires
# In the environ of a request the server's event loop serves: `group(commit, finish)` defers the
# call's commit to one commit for every call the loop served in the same turn (server._Server.hold).
GROUP_KEY = "broker_mocks.group"
DROPPED: Reply = ("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")], b"")


def inject(
    plan: FaultPlan, target: str | None, environ: dict[str, Any], render: Mapping[str, Callable[[FaultRule], Reply]]
) -> tuple[FaultRule | None, Reply | None]:
    """Fire the rule queued for this call to `target`, if any: (the rule, the reply to send instead).

    The reply is None when the call goes on (no rule, or a delay, already slept); a drop resets
    the client's connection (`DROPPED` is what the application returns, discarded; the server
    resets the connection after the application returns, when `environ[DROP_KEY]` is set); any other kind
    is `render[kind](rule)`, the emulator's own words for it.
    """
    rule = plan.take(target) if target else None
    if rule is None:
        return None, None
    if rule.kind == "delay":
        time.sleep(rule.seconds)
        return rule, None
    if rule.kind == "drop":
        # The server resets the connection once the application has returned, so the call is in
        # the journal before the client sees the reset (a client may read the journal at once).
        environ[DROP_KEY] = True
        return rule, DROPPED
    return rule, render[rule.kind](rule)
