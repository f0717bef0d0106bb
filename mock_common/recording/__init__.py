"""Record and replay for both APIs: cassettes, scrubbing, matching, the proxy, `responses` in-process.

Per-API parts live in `mock_streamster.recording` and `mock_instaforex.recording`. The names below
are imported on first use: the emulators' command lines load this package for their record and
replay commands, and serving should not pay for `requests` and `responses`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RECORD_MODES": "cassette", "Cassette": "cassette", "CassetteError": "cassette", "Interaction": "cassette",
    "Limits": "cassette",
    "Request": "cassette", "Response": "cassette", "load": "cassette", "loads": "cassette", "save": "cassette",
    "InProcess": "inprocess", "record": "inprocess", "replay": "inprocess",
    "Hit": "match", "Miss": "match", "ReplayEngine": "match",
    "ApiProfile": "profile", "profile_for": "profile",
    "RecorderServer": "proxy",
    "Scrubber": "scrub", "SecretLeakError": "scrub",
    "RecordingSession": "session",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .cassette import (
        RECORD_MODES,
        Cassette,
        CassetteError,
        Interaction,
        Limits,
        Request,
        Response,
        load,
        loads,
        save,
    )
    from .inprocess import InProcess, record, replay
    from .match import Hit, Miss, ReplayEngine
    from .profile import ApiProfile, profile_for
    from .proxy import RecorderServer
    from .scrub import Scrubber, SecretLeakError
    from .session import RecordingSession

__all__ = [
    "RECORD_MODES", "ApiProfile", "Cassette", "CassetteError", "Hit", "InProcess", "Interaction", "Limits", "Miss",
    "RecorderServer", "RecordingSession", "ReplayEngine", "Request", "Response", "Scrubber", "SecretLeakError",
    "load", "loads", "profile_for", "record", "replay", "save",
]  # fmt: skip
