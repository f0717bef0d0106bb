"""The JSON Schemas of the files a user writes, shipped as package data and used by the loaders.

`scenario` (a Streamster scenario), `accounts` (an InstaForex account store) and `cassette` (a
recorded session; its loader checks the header with it). `mock-streamster schema scenario`,
`mock-instaforex schema accounts` and `... schema cassette` print them; point an editor's YAML
language server at one (`# yaml-language-server: $schema=scenario.schema.json`) to complete and
check a file as you write it.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("scenario", "accounts", "cassette")


@cache
def text(name: str) -> str:
    """The schema file `name` as shipped (JSON text); ValueError naming the schemas for another name."""
    if name not in NAMES:
        raise ValueError(f"there is no schema {name!r}; the schemas are {', '.join(NAMES)}")
    return resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


@cache
def _parsed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text(name))
    return data


def load(name: str) -> dict[str, Any]:
    """The schema `name` (`scenario`, `accounts` or `cassette`) as a new dict (yours to change)."""
    return copy.deepcopy(_parsed(name))


def shared(name: str) -> dict[str, Any]:
    """The schema `name`, shared and not to be changed (for the validators)."""
    return _parsed(name)
