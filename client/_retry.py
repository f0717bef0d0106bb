"""Bounded, jittered retries for idempotent reads, and one log line per call."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import ApiError, BrokerError, StreamsterFault, TransportError

log = logging.getLogger("broker_mocks.client")
T = TypeVar("T")


def retryable(exc: BaseException) -> bool:
    """Connection problems, 5xx answers and Server faults are worth another try (reads only)."""
    if isinstance(exc, StreamsterFault):
        return exc.code == "Server"  # a Client fault would only fail again
    return isinstance(exc, TransportError) or (isinstance(exc, ApiError) and exc.status >= 500)


def call(operation: str, fn: Callable[[], T], retries: int, backoff: float) -> T:
    """Run `fn`; when `retries` > 0, retry retryable failures with exponential, jittered backoff.

    Logs the operation, its duration and outcome on the `client` logger, never arguments (which
    may carry passwords or tokens).
    """
    attempt = 0
    started = time.monotonic()
    while True:
        try:
            result = fn()
        except BrokerError as exc:
            if attempt < retries and retryable(exc):
                delay = backoff * (2**attempt) * (0.5 + random.random())  # full jitter around the step
                log.warning(
                    "%s failed (%s), retry %d/%d in %.2f s", operation, type(exc).__name__, attempt + 1, retries, delay
                )
                attempt += 1
                time.sleep(delay)
                continue
            log.info(
                "%s failed after %.1f ms: %s: %s",
                operation,
                (time.monotonic() - started) * 1000,
                type(exc).__name__,
                exc,
            )
            raise
        log.info("%s ok in %.1f ms", operation, (time.monotonic() - started) * 1000)
        return result
