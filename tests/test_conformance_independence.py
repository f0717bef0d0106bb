"""The conformance oracle is independent of the emulators by construction: importing it (the
machines, their models, the strategies, the runner) loads no emulator code, neither spyne nor
Flask, so a model can never borrow the implementation it judges."""

from __future__ import annotations

import json
import subprocess
import sys

MODULES = (
    "broker_mocks.conformance",
    "broker_mocks.conformance.run",
    "broker_mocks.conformance.controlplane",
    "broker_mocks.conformance.streamster",
    "broker_mocks.conformance.instaforex",
    "broker_mocks.conformance.strategies.streamster",
    "broker_mocks.conformance.strategies.instaforex",
)
FORBIDDEN = ("spyne", "flask", "werkzeug", "waitress", "lxml", "mock_common", "mock_streamster", "mock_instaforex")


def test_importing_conformance_loads_no_emulator_spyne_or_flask() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert set(MODULES) <= set(loaded)
    leaked = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert leaked == [], f"importing conformance loaded {leaked}"
