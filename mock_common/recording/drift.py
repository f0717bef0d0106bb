"""The drift check's pieces: each side's answer, what differs, and whether it is contract or state.

A cassette's answers are replayed against a fresh emulator, which does not hold the recorded
account's state. So the check reports two kinds of difference, apart:

- **contract drift** (exit 1): a recorded message that breaks the contract (unknown operation or
  route, wrong element, field or type), and between the two answers to the same request: missing or
  extra fields, changed types, a different status class or fault code while both succeed or both
  refuse;
- **state differences** (reported; exit 1 only with `--strict`): values, IDs and list lengths, and a
  request one side served and the other refused (an order that exists in one and not the other, an
  account's access level, a token the fresh emulator never issued).

IDs the emulator hands out (orders, positions) are learned as the answers are compared, recorded
ID to emulator ID, so a later request that names a recorded ID reaches the same object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from .cassette import Cassette

SUCCESS, REFUSAL = "success", "refusal"
STATE_SHOWN = 5  # state lines shown per interaction (-v shows them all)
STATE_KEPT = 200  # state lines kept per interaction; the rest are counted
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$")
_TIME = re.compile(r"^\d\d:\d\d(:\d\d(\.\d+)?)?$")
_ID_NAME = re.compile(r"(ID|Id|_id)$|^(?i:id|ticket|login)$")  # OrderID, PositionId, Ticket: not "Paid"


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


# An XML answer's content as `xml_tree` reads it: a leaf's text, or child name -> those children.
XmlTree = str | dict[str, list["XmlTree"]]


def xml_tree(element: etree._Element) -> XmlTree:
    """An element's content for value comparison: its text when it is a leaf, else child name -> list of
    the children of that name, in order (a list of one is still a list: lengths compare as such)."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        return (element.text or "").strip()
    out: dict[str, list[XmlTree]] = {}
    for child in children:
        out.setdefault(etree.QName(child).localname, []).append(xml_tree(child))
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


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_values(recorded: Any, emulator: Any, path: str, xml: bool, ids: dict[str, str]) -> list[str]:
    """Values, IDs and list lengths that differ (the state); pairs of IDs at the same place go into `ids`.

    Items of lists of different lengths are not compared (their order says nothing then); fields only
    one side has are the shape's business.
    """
    out: list[str] = []
    if isinstance(recorded, dict) and isinstance(emulator, dict):
        for key, value in recorded.items():
            if key in emulator:
                sub = f"{path}/{key}" if xml else f"{path}.{key}"
                out += compare_values(value, emulator[key], sub, xml, ids)
    elif isinstance(recorded, list) and isinstance(emulator, list):
        if len(recorded) != len(emulator):
            out.append(f"list length of {path}: recorded {len(recorded)}, emulator {len(emulator)}")
        else:
            single = xml and len(recorded) == 1  # an XML element that is not repeated: no index
            for n, (r, e) in enumerate(zip(recorded, emulator, strict=True)):
                out += compare_values(r, e, path if single else f"{path}[{n}]", xml, ids)
    elif isinstance(recorded, (dict, list)) or isinstance(emulator, (dict, list)):
        pass  # a type change: the shape reports it
    elif recorded != emulator and not (isinstance(recorded, bool) or isinstance(emulator, bool)):
        name = re.split(r"[/.\[]", path.rstrip("]"))[-1]
        if _ID_NAME.search(name):
            if isinstance(recorded, str) and ids.get(recorded) == emulator:
                return out  # an ID already paired: the same object on both sides
            if isinstance(recorded, str) and isinstance(emulator, str) and recorded and emulator:
                ids.setdefault(recorded, emulator)
            out.append(f"ID {path}: recorded {_show(recorded)}, emulator {_show(emulator)}")
        else:
            out.append(f"value of {path}: recorded {_show(recorded)}, emulator {_show(emulator)}")
    elif recorded != emulator:
        out.append(f"value of {path}: recorded {_show(recorded)}, emulator {_show(emulator)}")
    return out


@dataclass
class Answer:
    """One side's answer to a request, read for the comparison."""

    status: int
    outcome: str  # SUCCESS or REFUSAL
    fault: str | None = None  # the fault code a refusal carries (SOAP faultcode), if any
    shape: dict[str, str] | None = None  # None: the body could not be read
    tree: Any = None  # the body read for value comparison: parsed JSON, or an XmlTree
    xml: bool = False
    summary: str = ""  # a few words: "200", "500 soap:Client fault 'Order ... not found'"


def compare(item: ReportItem, recorded: Answer, emulator: Answer, ids: dict[str, str]) -> None:
    """Put what differs between the two answers into `item`, as contract drift or as state."""
    if recorded.outcome != emulator.outcome:
        item.add_state(
            f"outcome: recorded {recorded.summary}, emulator {emulator.summary} "
            "(one side served what the other refused: their states differ)"
        )
        return
    if recorded.status // 100 != emulator.status // 100:
        item.contract.append(f"status class: recorded {recorded.status}, emulator {emulator.status}")
    elif recorded.status != emulator.status:
        item.add_state(f"status: recorded {recorded.status}, emulator {emulator.status}")
    if recorded.fault != emulator.fault:
        item.contract.append(f"fault code: recorded {recorded.fault}, emulator {emulator.fault}")
    if recorded.shape is None or emulator.shape is None:
        if (recorded.shape is None) != (emulator.shape is None):
            unread = "recorded" if recorded.shape is None else "emulator's"
            item.contract.append(f"the {unread} answer's body cannot be read as the API's format")
        return
    item.contract += compare_shapes(recorded.shape, emulator.shape)
    for line in compare_values(recorded.tree, emulator.tree, "" if recorded.xml else "$", recorded.xml, ids):
        item.add_state(line)


@dataclass
class ReportItem:
    """What the check found for one interaction."""

    number: int
    request: str
    line: int
    contract: list[str] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    state_more: int = 0  # state lines beyond STATE_KEPT, counted only

    def add_state(self, line: str) -> None:
        """Keep one state difference (bounded: a list of 10,000 bars is counted, not kept)."""
        if len(self.state) < STATE_KEPT:
            self.state.append(line)
        else:
            self.state_more += 1

    @property
    def ok(self) -> bool:
        """No contract drift."""
        return not self.contract

    @property
    def same(self) -> bool:
        """No difference at all."""
        return not self.contract and not self.state


@dataclass
class Report:
    """The drift check of one cassette."""

    cassette: Cassette
    against: str = "a fresh emulator"
    items: list[ReportItem] = field(default_factory=list)

    def item(self, number: int, request: str, line: int) -> ReportItem:
        """A new entry for interaction `number`."""
        entry = ReportItem(number, request, line)
        self.items.append(entry)
        return entry

    @property
    def ok(self) -> bool:
        """No contract drift anywhere (state differences allowed)."""
        return all(i.ok for i in self.items)

    @property
    def same(self) -> bool:
        """No difference at all: no contract drift and no state difference."""
        return all(i.same for i in self.items)

    def lines(self, verbose: bool = False) -> list[str]:
        """The report as text lines: the contract drift, then the state differences, then a summary."""
        name = self.cassette.path or "<cassette>"
        total = len(self.items)
        drifted = [i for i in self.items if i.contract]
        differ = [i for i in self.items if i.state]
        out = [f"{name}: {self.cassette.api} cassette, {total} interactions, checked against {self.against}"]

        def where(i: ReportItem) -> str:
            return f"#{i.number} {i.request}" + (f" (line {i.line})" if i.line else "")

        out.append(f"contract drift: {len(drifted)} of {total} interactions" if drifted else "contract drift: none")
        for i in drifted:
            out.append(f"  {where(i)}")
            out += [f"      {s}" for s in i.contract]
        head = f"state differences: {len(differ)} of {total} interactions" if differ else "state differences: none"
        out.append(head + (" (values, IDs, list lengths: the fresh emulator's account is not the recorded one)"
                           if differ else ""))  # fmt: skip
        for i in differ:
            out.append(f"  {where(i)}")
            shown = i.state if verbose else i.state[:STATE_SHOWN]
            out += [f"      {s}" for s in shown]
            more = len(i.state) - len(shown) + i.state_more
            if more:
                out.append(f"      ... and {more} more" + ("" if verbose else " (-v shows them)"))
        if verbose:
            out += [f"  ok    {where(i)}" for i in self.items if i.same]
        if drifted:
            out.append(f"CONTRACT DRIFT in {len(drifted)} of {total} interactions")
        else:
            out.append("no contract drift" + (f" ({len(differ)} interactions differ in state only)" if differ else ""))
        return out
