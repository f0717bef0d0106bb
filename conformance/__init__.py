"""Conformance state machines: drive a client against an emulator and check every step against
an independent model of the API, written from the contracts (it imports no emulator code and
talks to the emulators' control planes over HTTP only).

Use them on the reference client, or on your own client through a small adapter: see README.
They need Hypothesis, which the `conformance` extra brings: `pip install 'broker-mocks[conformance]'`.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("hypothesis") is None:  # say which extra, not just "No module named hypothesis"
    raise ImportError(
        "broker_mocks.conformance needs Hypothesis, which the 'conformance' extra installs: "
        "pip install 'broker-mocks[conformance]'",
        name="hypothesis",
    )
