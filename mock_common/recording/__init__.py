"""Record and replay for both APIs: cassettes, scrubbing, matching, the proxy, `responses` in-process.

Per-API parts live in `mock_streamster.recording` and `mock_instaforex.recording`.
"""

from .cassette import RECORD_MODES, Cassette, CassetteError, Interaction, Request, Response, load, loads, save
from .inprocess import InProcess, record, replay
from .match import Hit, Miss, ReplayEngine
from .profile import ApiProfile, profile_for
from .proxy import RecorderServer
from .scrub import Scrubber, SecretLeakError
from .session import RecordingSession

__all__ = [
    "RECORD_MODES", "ApiProfile", "Cassette", "CassetteError", "Hit", "InProcess", "Interaction", "Miss",
    "RecorderServer", "RecordingSession", "ReplayEngine", "Request", "Response", "Scrubber", "SecretLeakError",
    "load", "loads", "profile_for", "record", "replay", "save",
]  # fmt: skip
