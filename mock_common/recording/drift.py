"""The drift check's pieces: message shapes (paths and value kinds), their differences, the report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from .cassette import Cassette

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$")
_TIME = re.compile(r"^\d\d:\d\d(:\d\d(\.\d+)?)?$")


def _kind_of_text(text: str) -> str:
    if not text:
        return "empty"
    if _NUMBER.match(text):
        return "number"
    if _DATETIME.match(text):
        return "datetime"
    if _TIME.match(text):
        return "time"
    return "text"


def xml_shape(element: etree._Element, prefix: str = "") -> dict[str, str]:
    """path -> kind of every element under `element` (repeated elements share one path)."""
    out: dict[str, str] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        path = f"{prefix}/{etree.QName(child).localname}"
        if len(child):
            out.setdefault(path, "element")
            for k, v in xml_shape(child, path).items():
                if out.get(k) in (None, "empty"):
                    out[k] = v
        else:
            kind = _kind_of_text((child.text or "").strip())
            if out.get(path) in (None, "empty"):
                out[path] = kind
    return out


def json_shape(value: Any, path: str = "$") -> dict[str, str]:
    """path -> JSON type of every value (list items share one path, `[]`)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        out[path] = "object"
        for k, v in value.items():
            out.update(json_shape(v, f"{path}.{k}"))
    elif isinstance(value, list):
        out[path] = "array"
        for v in value:
            for k, kind in json_shape(v, f"{path}[]").items():
                out.setdefault(k, kind)
    elif isinstance(value, bool):
        out[path] = "boolean"
    elif isinstance(value, (int, float, Decimal)):
        out[path] = "number"
    elif value is None:
        out[path] = "null"
    else:
        out[path] = "string"
    return out


def _parent(path: str) -> str:
    cut = max(path.rfind("/"), path.rfind("."), path.rfind("[]") if path.endswith("[]") else -1)
    return path[:cut] if cut > 0 else ""


def compare_shapes(recorded: dict[str, str], emulator: dict[str, str]) -> list[str]:
    """Missing and extra fields and changed kinds; a subtree only one side has is reported once, at its top,
    and the items of a list that is empty on one side are not compared."""
    diffs: list[str] = []
    for path in recorded:
        parent = _parent(path)
        if path not in emulator:
            if parent and parent not in emulator:
                continue
            if parent and parent in emulator and recorded.get(parent) == "array":
                continue  # the emulator's list is empty: nothing to compare the items with
            diffs.append(f"missing in the emulator's answer: {path} ({recorded[path]})")
        elif recorded[path] != emulator[path] and "empty" not in (recorded[path], emulator[path]):
            if "null" not in (recorded[path], emulator[path]):
                diffs.append(f"type of {path}: recorded {recorded[path]}, emulator {emulator[path]}")
    for path in emulator:
        parent = _parent(path)
        if path not in recorded and not (parent and (parent not in recorded or recorded.get(parent) == "array")):
            diffs.append(f"extra in the emulator's answer: {path} ({emulator[path]})")
    return diffs


@dataclass
class ReportItem:
    """What the check found for one interaction."""

    number: int
    request: str
    line: int
    schema: list[str] = field(default_factory=list)
    structure: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.schema and not self.structure


@dataclass
class Report:
    """The drift check of one cassette."""

    cassette: Cassette
    items: list[ReportItem] = field(default_factory=list)

    def item(self, number: int, request: str, line: int) -> ReportItem:
        """A new entry for interaction `number`."""
        entry = ReportItem(number, request, line)
        self.items.append(entry)
        return entry

    @property
    def ok(self) -> bool:
        """Every interaction passed."""
        return all(i.ok for i in self.items)

    def lines(self) -> list[str]:
        """The report as text lines."""
        name = self.cassette.path or "<cassette>"
        out = [f"{name}: {self.cassette.api} cassette, {len(self.items)} interactions"]
        for i in self.items:
            where = f"#{i.number} {i.request}" + (f" (line {i.line})" if i.line else "")
            if i.ok:
                out.append(f"  ok    {where}")
                continue
            out.append(f"  DRIFT {where}")
            out += [f"        schema: {s}" for s in i.schema]
            out += [f"        structure: {s}" for s in i.structure]
        bad = sum(not i.ok for i in self.items)
        out.append("no drift found" if not bad else f"{bad} of {len(self.items)} interactions differ")
        return out
