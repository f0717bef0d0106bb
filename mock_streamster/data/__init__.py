"""Data that ships with the Streamster emulator, by name.

Scenarios: `demo` (what `mock-streamster serve` and `make run` serve: the default desks and
instruments plus a live desk, seed 7) and `day` (a day of EUR/USD ticks every 20 s, no random walk).
Cassettes recorded from the emulator: `streamster-client` (the reference client, every operation)
and `streamster-php` (PHP's SoapClient samples).
"""

from __future__ import annotations

from mock_common.builtin import Builtins

SCENARIOS = Builtins("scenario", __name__, {"demo": "demo.yaml", "day": "day.yaml"})
CASSETTES = Builtins(
    "cassette",
    __name__,
    {"streamster-client": "cassettes/streamster-client.yaml", "streamster-php": "cassettes/streamster-php.yaml"},
)
