"""The Streamster platform in a state file (`--state`): its parts, written as they change, and read back.

The platform describes itself as keyed parts and tells a tracker what changed (parts.py); this
module opens the file (mock_common.persist writes it), hands the platform's changes to the
writer, and on start restores the platform from the saved parts, its clock resumed (a virtual
clock at the time it was saved with, never behind a time it showed; a real clock at real time)
and its market caught up. A version 1 file (one row per whole price series) is read as well and
rewritten in the current layout by the first write.
"""

from __future__ import annotations

import logging
from typing import Any

from mock_common.clock import ClockMode
from mock_common.parts import Changes, resume_at
from mock_common.persist import StateFile, StateFileError

from .errors import ScenarioError
from .market import to_epoch
from .parts import Tracker, scenario_from_data
from .platform import Platform

log = logging.getLogger(__name__)

API = "streamster"


class StreamsterState:
    """The `StateSource` of one platform: its changes since the last write, from its tracker."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.tracker = Tracker()

    def changes(self, final: bool = False) -> Changes:
        """What changed since the last accepted write (everything the first time)."""
        return self.platform.changes_since(self.tracker, final)


class Saved:
    """What a state file was started with: seed, clock mode and speed, scenario."""

    def __init__(self, rows: dict[str, Any]) -> None:
        try:
            core = rows["core"]
            clock = rows.get("clock") or {"mode": core["clock"]}  # version 1 kept the mode in core
            self.seed = int(core["seed"])
            self.clock: ClockMode = clock["mode"]
            self.speed: float | None = clock.get("speed")
            self.scenario = scenario_from_data(rows["scenario"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


def open_state(
    path: Any, seed: int | None, clock: ClockMode | None, speed: float | None, scenario: Any
) -> tuple[StateFile, int | None, ClockMode, float | None, Any, dict[str, Any] | None]:
    """Open a state file: (file, seed, clock mode, speed, scenario, saved rows or None for a new file).

    A saved file holds its seed, scenario, clock and speed: a seed or scenario given as well must
    agree with it (else StateFileError); a clock or speed given explicitly wins (a real clock then
    catches up, and runs at no speed)."""
    file = StateFile(path, API)
    rows = file.rows
    if rows is None:
        return file, seed, clock or "virtual", speed, scenario, None
    try:
        saved = Saved(rows)
        if scenario is not None:
            raise StateFileError(
                f"state file {str(path)!r} already holds its scenario ({saved.scenario.source or 'inline'}): "
                "start with the state file alone, or use a new file for another scenario"
            )
        if seed not in (None, 0, saved.seed):
            raise StateFileError(
                f"state file {str(path)!r} holds seed {saved.seed}, not {seed}: start with the state file alone"
            )
    except BaseException:
        file.close()
        raise
    mode = clock or saved.clock
    if speed is None and mode == "virtual":
        speed = saved.speed
    return file, saved.seed, mode, speed, saved.scenario, rows


def restore(platform: Platform, rows: dict[str, Any], version: int) -> None:
    """Put `platform` in the saved state, its clock resumed; the market then catches up to the clock."""
    try:
        if version < 2:
            platform.restore(_version_1(rows, platform.clock.mode))
        else:
            parts = dict(rows)
            parts["clock"] = {**rows["clock"], "now": resume_at(rows["clock"], platform.clock.mode).isoformat()}
            platform.restore_parts(parts)
    except ScenarioError as exc:
        raise StateFileError(str(exc)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None
    behind = to_epoch(platform.clock.now()) - platform.synced
    if behind > 60:
        log.info("catching up %.0f seconds of market since the state was saved", behind)
    platform.advance(0)  # play the ticks the market is behind its clock (none on a virtual clock stopped)


def _version_1(rows: dict[str, Any], clock: ClockMode) -> dict[str, Any]:
    """The snapshot mapping a version 1 file's rows describe (a row per whole series and generator)."""
    core = rows["core"]
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key, value in rows.items():
        prefix, _, rest = key.partition("/")
        groups.setdefault(prefix + "/", []).append((rest, value))
    saved = {"mode": core["clock"], **{k: core[k] for k in ("now", "offset") if k in core}}
    now = resume_at(saved, clock)
    ticks = rows["ticks"] if rows["ticks"] is not None else rows["scenario"]["ticks"]
    issued: dict[str, list[str]] = {space: [] for space, _ in groups.get("id_rng/", [])}
    for rest, _ in groups.get("issued/", []):
        space, ident = rest.split("/", 1)
        issued.setdefault(space, []).append(ident)
    return {
        "version": 1, "seed": core["seed"], "now": now.isoformat(), "tick_interval": core["tick_interval"],
        "walk": core["walk"], "next_tick": core["next_tick"], "synced": core["synced"],
        "instruments": core["instruments"], "series": dict(groups.get("series/", [])),
        "walk_rng": dict(groups.get("walk_rng/", [])), "ticks": ticks, "tick_index": core["tick_index"],
        "desks": core["desks"],
        "orders": [v for _, v in sorted(groups.get("order/", []))],
        "positions": [v for _, v in sorted(groups.get("position/", []))],
        "trades": [v for _, v in sorted(groups.get("trade/", []))],
        "id_rng": dict(groups.get("id_rng/", [])), "issued": {space: sorted(ids) for space, ids in issued.items()},
        "last_message": core["last_message"], "columns": core["columns"], "closed_charts": core["closed_charts"],
    }  # fmt: skip
