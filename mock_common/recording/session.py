"""A record/replay session: the record modes, scrubbing on the way in, and the cassette on disk.

The recording proxy, the replay server and the in-process `responses` route all drive one of these.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from lxml import etree

from . import cassette as cassette_io
from .cassette import RECORD_MODES, Cassette, CassetteError, Interaction, Request, Response
from .match import Hit, ReplayEngine
from .profile import ApiProfile
from .scrub import Scrubber, SecretLeakError
from .targets import UpstreamError

log = logging.getLogger(__name__)

Forward = Callable[[Request], Response]


_PRETTY = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False)


def readable(body: str) -> str:
    """An XML body indented one element a line (so a cassette diffs line by line); other bodies as they are.

    Only whitespace between elements changes, which no SOAP reader sees.
    """
    head = body.lstrip()[:1]
    if head != "<" or "\n" in body.strip() and body.count("\n") > 3:
        return body
    try:
        root = etree.fromstring(body.encode("utf-8"), _PRETTY)
    except (etree.XMLSyntaxError, ValueError):
        return body
    declaration = body.lstrip().startswith("<?xml")
    text: str = etree.tostring(root, pretty_print=True, xml_declaration=declaration, encoding="UTF-8").decode("utf-8")
    return text.replace("<?xml version='1.0' encoding='UTF-8'?>", '<?xml version="1.0" encoding="UTF-8"?>', 1)


class RecordingSession:
    """One cassette under one record mode.

    - `none`: replay only; a request the cassette does not hold is a miss.
    - `once`: record everything if the cassette does not exist yet, else behave as `none`.
    - `new_episodes`: replay what the cassette holds, record (append) what it does not.
    - `all`: record everything again (the old cassette is replaced at the first write).

    Only the API is recorded: a request the profile says is not part of it (the emulators' `/_mock/`
    control plane and dashboard) is forwarded and answered but never written, unless `record_all_paths`.
    """

    def __init__(
        self,
        profile: ApiProfile,
        path: str | Path,
        mode: str = "once",
        upstream: str = "",
        patterns: Iterable[str] = (),
        secrets: Iterable[str] = (),
        exhausted: str = "repeat",
        source: str = "",
        record_all_paths: bool = False,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"record mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
        self.profile, self.path, self.mode = profile, Path(path), mode
        exists = self.path.exists()
        if mode == "none" and not exists:
            raise CassetteError(
                f"{self.path}: no such cassette, and record mode 'none' only replays. Record it first: "
                f"`mock-{profile.name} record --upstream {profile.default_upstream} --cassette {self.path}` "
                "(then point the bot at the URL it prints), or record on first use with record mode 'once' "
                "(pytest --broker-record-mode=once; --record-mode once; record(...) in Python)"
            )
        if mode == "all" or not exists:
            self.cassette = Cassette(api=profile.name, upstream=upstream)
            profile.header(self.cassette)
        else:
            self.cassette = cassette_io.load(self.path)
            if self.cassette.api != profile.name:
                raise CassetteError(f"{self.path}, line 1: a {self.cassette.api} cassette, not a {profile.name} one")
        if upstream and not self.cassette.upstream:
            self.cassette.upstream = upstream
        self.upstream = upstream or self.cassette.upstream
        self.recording = mode in ("all", "new_episodes") or (mode == "once" and not exists)
        self.replaying = not (mode == "all" or (mode == "once" and not exists))
        if self.recording:
            self.cassette.source = source or self.cassette.source or f"recorded through broker-mocks from {upstream}"
        if self.recording and not upstream:
            raise ValueError(f"record mode {mode!r} needs an upstream to record from (the cassette has none)")
        tokens = profile.cassette_tokens(self.cassette)
        self.scrubber = Scrubber(profile, patterns, secrets, self.cassette.logins, tokens)
        self.engine = ReplayEngine(self.cassette, profile, exhausted, logins=self.scrubber.logins)
        self.engine.log_misses = not self.recording
        self.record_all_paths = record_all_paths
        self.refused: list[str] = []
        self.recorded = 0
        self.passed = 0  # requests forwarded but not recorded (not part of the API)
        self._answers: dict[tuple[int, int], Response] = {}
        self._lock = threading.Lock()
        self._started: float | None = None
        self._base_offset = max((i.offset for i in self.cassette.interactions), default=0.0)
        if self.cassette.interactions:
            self._base_offset += 1.0  # a new episode starts visibly after the old ones

    def handle(self, req: Request, forward: Forward | None) -> tuple[Response, str]:
        """(the answer, "replayed" | "recorded" | "passed" | "miss"). `req.url` is relative to the upstream."""
        if not self.record_all_paths and not self.profile.is_api(req.url):
            if forward is None or not self.recording:
                text = f"{req.method} {req.url.partition('?')[0]} is not part of the {self.profile.name} API"
                return self.profile.miss_response(text + ": a cassette holds the API only."), "miss"
            with self._lock:
                self.passed += 1
            return forward(req), "passed"  # the emulator's control plane or dashboard: answered, never recorded
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()
        if self.replaying:
            found = self.engine.find(req)
            if isinstance(found, Hit):
                return self._answer(found), "replayed"
            if not self.recording:
                return self.profile.miss_response(found.message()), "miss"
        if forward is None:
            raise UpstreamError("no upstream to record from")
        offset = time.monotonic() - (self._started or time.monotonic())
        resp = forward(req)
        self.record(req, resp, offset)
        return resp, "recorded"

    def _answer(self, hit: Hit) -> Response:
        # The fake logins turned back into the client's: the same while the login map does not change.
        key = (hit.index, self.engine.logins.version)
        cached = self._answers.get(key)
        if cached is None:
            cached = self._answers[key] = self.profile.unscrub(hit.interaction.response, self.engine.logins)
        return cached

    def record(self, req: Request, resp: Response, offset: float) -> bool:
        """Scrub and append one interaction, then write the cassette; False when it was refused."""
        with self._lock:
            clean_req = self.scrubber.request(req)
            clean_resp = self.scrubber.response(req, resp)
            clean_req = replace(
                clean_req, soap_action=self.profile.soap_action(clean_req), body=readable(clean_req.body)
            )
            if not clean_resp.binary:
                clean_resp = replace(clean_resp, body=readable(clean_resp.body))
            interaction = Interaction(clean_req, clean_resp, self._base_offset + offset)
            n = len(self.cassette.interactions) + 1
            probe = Cassette(api=self.cassette.api, interactions=[interaction]).dumps()
            try:
                self.scrubber.ensure_clean(probe, f"{self.path}: interaction {n} ({self.profile.describe(req)})")
            except SecretLeakError as exc:
                self.refused.append(str(exc))
                log.error("%s", exc)
                return False
            self.cassette.interactions.append(interaction)
            self.cassette.logins = sorted(set(self.cassette.logins) | set(self.scrubber.logins.fakes()))
            self.engine.fakes |= set(self.cassette.logins)
            self.engine.add(interaction)
            self.recorded += 1
            self.save()
            return True

    def save(self) -> None:
        """Write the cassette (refused, and left as it was, if a known secret is anywhere in it)."""
        text = self.cassette.dumps()
        self.scrubber.ensure_clean(text, str(self.path))
        cassette_io.save(self.cassette, self.path, text)

    def summary(self) -> str:
        """What happened, for the console."""
        parts = [f"{self.recorded} recorded", f"{len(self.engine.misses)} missed"]
        if self.passed:
            parts.append(f"{self.passed} passed through unrecorded (not the API)")
        if self.refused:
            parts.append(f"{len(self.refused)} refused (a secret survived scrubbing)")
        return f"{self.path}: {len(self.cassette.interactions)} interactions; " + ", ".join(parts)
