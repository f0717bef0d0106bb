"""The control of a recorder or a replay server: its journal and its queued faults, in its API's words.

A `RecordingControl` is the common `CallControl` (`mock_common.control`) named by the profile: its
fault targets are the API's operations or routes, its fault kinds those the emulator has replies for
(plus delays and drops). The replay server serves it under /_mock/ (`/_mock/journal`, `/_mock/faults`);
the recorder passes /_mock/ to its upstream, so there and in process it is reached from Python only.
"""

from __future__ import annotations

from typing import Any

from ..control import CallControl
from ..journal import Journal
from .profile import ApiProfile


class RecordingControl(CallControl):
    """The journal and the fault plan of one recorder, replay server or in-process route."""

    def __init__(self, profile: ApiProfile, journal: Journal | None = None, seed: int = 0) -> None:
        self.profile = profile
        self.emulator = profile.name
        self.operations = profile.operations
        self.fault_kinds = profile.fault_kinds
        super().__init__(journal if journal is not None else Journal(), seed)

    def _fault_params(self, kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The kind as the emulator takes it (InstaForex's 'fault' is an HTTP 500)."""
        return self.profile.fault_params(kind, params)
