"""`python -m broker_mocks`: the `broker-mocks` launcher (both emulators, as `make run` serves them)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
