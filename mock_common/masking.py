"""The one rule for which fields are secret, and the one function that finds them in a body.

The cassette scrubber, the dashboard and the failure report all use it. A body is read as what it
is, never searched as text: a JSON document is parsed (so `"Pass\\u0077ord"` is the key `Password`,
any case), a form-encoded body is split into its fields (names percent- and plus-decoded), an XML
document is parsed and its elements and attributes are read by local name. A body that does not
parse (cut short by the journal, or malformed) is read token by token the same way, so a value
after a secret name is masked even when the document never closes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

from lxml import etree

if TYPE_CHECKING:
    from .journal import JournalEntry

#: Field names holding secrets, compared case-insensitively with `_`, `-` and other punctuation
#: ignored; any name ending in `password` is one too (`api_password`, `NewPassword`).
SECRET_FIELDS = frozenset({"password", "passkey"})
SHOWN = "•••"
# Every secret name holds this (checked at import): a body without it, without escapes, cannot hold one.
_NEEDLE = "pass"
assert all(_NEEDLE in name for name in SECRET_FIELDS)

#: (field name as written, its value) -> the value to keep (return `value` itself to keep it).
Rewrite = Callable[[str, Any], Any]


def _normal(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def is_secret_field(name: str) -> bool:
    """Whether a field of this name holds a secret (a password, a token in a body)."""
    key = _normal(name)
    return key in SECRET_FIELDS or key.endswith("password")


def may_hold_secret(text: str) -> bool:
    """False only when `text` surely names no secret field (no escape, no percent-encoding, no `pass`)."""
    return "\\" in text or "%" in text or _NEEDLE in text.lower()


# ------------------------------------------------------------------------------------ JSON


class Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs, duplicates and order kept."""


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, object_pairs_hook=Pairs)


def dumps_like(data: Any, original: str) -> str:
    """JSON text for `data` (Decimal numbers keep their digits), spaced like `original` was."""
    spaced = bool(re.search(r'"\s*:\s+|,\s+"', original))
    sep_item, sep_key = (", ", ": ") if spaced else (",", ":")

    def enc(v: Any) -> str:
        if isinstance(v, (dict, Pairs)):
            items = v.items() if isinstance(v, dict) else v
            return "{" + sep_item.join(f"{json.dumps(k, ensure_ascii=False)}{sep_key}{enc(x)}" for k, x in items) + "}"
        if isinstance(v, list):
            return "[" + sep_item.join(enc(x) for x in v) + "]"
        if isinstance(v, Decimal):
            return str(v)
        return json.dumps(v, ensure_ascii=False)

    return enc(data)


def _walk_json(value: Any, rewrite: Rewrite, key: str | None) -> tuple[Any, bool]:
    if isinstance(value, Pairs):
        out, changed = Pairs(), False
        for k, v in value:
            # A container is offered whole first (a secret's value is replaced whole), else walked.
            whole = rewrite(k, v) if isinstance(v, list) else v
            new, c = (whole, True) if whole is not v else _walk_json(v, rewrite, k)
            out.append((k, new))
            changed |= c
        return out, changed
    if isinstance(value, list):
        items = [_walk_json(v, rewrite, key) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    if key is None:
        return value, False
    new = rewrite(key, value)
    return new, new is not value


# A JSON key and the start of its value, for text that does not parse (cut short, or malformed): a
# string value may run to the end of the text.
_JSON_MEMBER = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s,}\]"]+)')


def _json_tokens(text: str, rewrite: Rewrite) -> str:
    def one(m: re.Match[str]) -> str:
        try:
            key = json.loads(m.group(1))
        except ValueError:
            return m.group(0)
        raw = m.group(3)
        try:
            value: Any = json.loads(raw) if raw.endswith('"') and len(raw) > 1 else raw
        except ValueError:
            value = raw
        new = rewrite(key, value)
        if new is value:
            return m.group(0)
        bare = isinstance(new, (int, Decimal)) and not isinstance(new, bool) and not raw.startswith('"')
        return m.group(1) + m.group(2) + (str(new) if bare else json.dumps(str(new), ensure_ascii=False))

    return _JSON_MEMBER.sub(one, text)


# ------------------------------------------------------------------------------------ forms


_FORM = re.compile(r"[^\s&=]+=[^\s&]*(&[^\s&=]*(=[^\s&]*)?)*")


def is_form(text: str) -> bool:
    """Whether `text` reads as a form-encoded body (`a=1&b=2`)."""
    return _FORM.fullmatch(text.strip()) is not None


def rewrite_form(text: str, rewrite: Rewrite) -> str:
    """A form-encoded text (`a=1&b=2`, a query string) with each field's value passed through `rewrite`."""
    parts = text.split("&")
    changed = False
    for n, part in enumerate(parts):
        name, sep, raw = part.partition("=")
        if not sep:
            continue
        value = unquote_plus(raw)
        new = rewrite(unquote_plus(name), value)
        if new is not value and new != value:
            parts[n] = f"{name}={new if new == SHOWN else quote_plus(str(new))}"
            changed = True
    return "&".join(parts) if changed else text


# ------------------------------------------------------------------------------------ XML


_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
)
# An element's start tag and its text, for XML that does not parse: the text runs to the next tag or the end.
_XML_ELEMENT = re.compile(r"<((?:[\w.-]+:)?([\w.-]+))(\s[^<>]*)?>((?:<!\[CDATA\[.*?(?:\]\]>|$)|[^<])*)", re.DOTALL)


def _xml_tree(root: etree._Element, rewrite: Rewrite) -> bool:
    changed = False
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, value in list(el.attrib.items()):
            new = rewrite(etree.QName(attr).localname, value)
            if new is not value and new != value:
                el.set(attr, str(new))
                changed = True
        if len(el) == 0:
            text = el.text or ""
            new = rewrite(etree.QName(el).localname, text)
            if new is not text and new != text:
                el.text = str(new)
                changed = True
    return changed


def _xml_tokens(text: str, rewrite: Rewrite) -> str:
    def one(m: re.Match[str]) -> str:
        raw = m.group(4)
        value = raw[9:].removesuffix("]]>") if raw.startswith("<![CDATA[") else raw
        new = rewrite(m.group(2), value)
        if new is value or new == value:
            return m.group(0)
        return m.group(0)[: m.start(4) - m.start(0)] + str(new)

    return _XML_ELEMENT.sub(one, text)


def _xml(text: str, rewrite: Rewrite) -> str:
    try:
        root = etree.fromstring(text.encode("utf-8"), _XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return _xml_tokens(text, rewrite)
    if not _xml_tree(root, rewrite):
        return text
    body = etree.tostring(root.getroottree(), encoding="unicode")
    start = text.lstrip()
    head = text[: len(text) - len(start)]
    if start.startswith("<?xml"):
        head += start[: start.index("?>") + 2] + "\n"
    return head + body


# ------------------------------------------------------------------------------------ the function


def rewrite_fields(text: str, rewrite: Rewrite) -> str:
    """`text` (a JSON, form-encoded or XML body) with every field's value passed through `rewrite`.

    The text comes back as it was when nothing changed; a changed JSON body keeps its spacing.
    """
    stripped = text.strip()
    if not stripped:
        return text
    if stripped[0] in "{[":
        try:
            data = _loads(stripped)
        except ValueError:
            return _json_tokens(text, rewrite)
        new, changed = _walk_json(data, rewrite, None)
        return dumps_like(new, text) if changed else text
    if stripped[0] == "<":
        return _xml(text, rewrite)
    if is_form(stripped):
        new_form = rewrite_form(stripped, rewrite)
        return text if new_form == stripped else new_form
    return text


def _shown(name: str, value: Any) -> Any:
    if not is_secret_field(name) or value in ("", None):
        return value
    return SHOWN


def mask(text: str | None) -> str | None:
    """A body with the value of every secret field replaced by `•••` (for people to read, not to replay)."""
    if not text or not may_hold_secret(text):
        return text
    return rewrite_fields(text, _shown)


def mask_target(target: str | None) -> str | None:
    """A request target (path and query) with the secret fields of its query masked."""
    if not target or "?" not in target or not may_hold_secret(target):
        return target
    path, _, query = target.partition("?")
    return f"{path}?{rewrite_form(query, _shown)}"


def mask_entry(entry: JournalEntry) -> JournalEntry:
    """A journal entry with its bodies and its path's query masked."""
    details = dict(entry.details)
    if isinstance(details.get("path"), str):
        details["path"] = mask_target(details["path"])
    return replace(entry, request=mask(entry.request), response=mask(entry.response), details=details)
