"""Data that ships with the InstaForex emulator, by name.

Accounts: `demo` (loaded by default: three client accounts, one per access level, and a partner).
Cassette recorded from the emulator: `instaforex-client` (the reference client, every route).
"""

from __future__ import annotations

from mock_common.builtin import Builtins

ACCOUNTS = Builtins("accounts file", __name__, {"demo": "demo.yaml"})
CASSETTES = Builtins("cassette", __name__, {"instaforex-client": "cassettes/instaforex-client.yaml"})
