"""The InstaForex emulator in a state file (`--state`): its parts, written as they change, and read back.

The controller describes the emulator as keyed parts and tells a tracker what changed (parts.py):
a token request writes its login's account (the login history) and tokens, a control operation
what it changed. This module opens the file (mock_common.persist writes it), hands the changes to
the writer, and on start restores the emulator, its clock resumed (a virtual clock at the time it
was saved with, never behind a time it showed; a real clock at real time). A version 1 file (all
tokens in one row) is read as well and rewritten in the current layout by the first write.
"""

from __future__ import annotations

from typing import Any

from mock_common.clock import ClockMode
from mock_common.parts import Changes
from mock_common.persist import StateFile, StateFileError

from .control import Controller, DamagedStateError
from .errors import StoreError
from .parts import Tracker, parts_from_snapshot_state

API = "instaforex"


class InstaForexState:
    """The `StateSource` of one emulator: its changes since the last write, from its tracker."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.tracker = Tracker()

    def changes(self, final: bool = False) -> Changes:
        """What changed since the last accepted write (everything the first time)."""
        return self.controller.changes_since(self.tracker, final)


def saved_clock(rows: dict[str, Any]) -> tuple[ClockMode, float | None]:
    """The clock mode and speed a state file was saved with."""
    try:
        return rows["clock"]["mode"], rows["clock"].get("speed")
    except (KeyError, TypeError, AttributeError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


def restore(controller: Controller, rows: dict[str, Any], version: int) -> None:
    """Put the emulator in the saved state: accounts, tokens (still valid), clock, reset source."""
    try:
        parts = parts_from_snapshot_state(rows) if version < 2 else rows
        controller.restore_parts(parts)
    except DamagedStateError as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc}") from None
    except StoreError as exc:
        raise StateFileError(f"the state file's accounts are damaged: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError(f"the state file is incomplete or damaged: {exc!r}") from None


def open_state(
    path: Any, clock: ClockMode | None, speed: float | None
) -> tuple[StateFile, ClockMode, float | None, dict[str, Any] | None]:
    """Open a state file: (file, clock mode, speed, saved rows or None for a new file).

    A clock or speed given explicitly wins over the saved ones (a real clock runs at no speed)."""
    file = StateFile(path, API)
    if file.rows is None:
        return file, clock or "virtual", speed, None
    try:
        saved_mode, saved_speed = saved_clock(file.rows)
    except BaseException:
        file.close()
        raise
    mode = clock or saved_mode
    if speed is None and mode == "virtual":
        speed = saved_speed
    return file, mode, speed, file.rows
