"""User files (scenarios, accounts, cassette headers, marker arguments) and the one wording of their errors.

Every refusal reads the same, wherever the file was given (command line, control plane, pytest
marker, Python): the file, the line and column, the key path, the reason, and the nearest valid
key or value when there is one:

    day.yaml:12:7: instruments[0].prise: unknown key; did you mean 'price'?

Content given inline (a marker's or a control request's mapping) is named instead of a file:
`inline scenario: instruments[0].prise: ...`. Files are read whole into plain data with PyYAML's
fast loader; only when something is wrong is the text composed again into nodes, to find the line
and column of the key path. The structure is checked with the shipped JSON Schemas
(`mock_common.schemas`); what a schema cannot say (a commission on a login that is no referral)
is checked by the loader, which raises `UserFileError.at(path, reason)` and gets the same wording.
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path, PurePath
from typing import Any

MAX_FILE_BYTES = 64 * 1024 * 1024  # a scenario or accounts file; a bigger one is refused unread
MAX_VALUES = 5_000_000  # values in a file once its YAML aliases are expanded (what validation visits)
MAX_ERRORS = 1000  # schema errors looked at to find the first one in the file
_NOTHING: Any = object()
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")

Steps = tuple[Any, ...]  # a key path: mapping keys and list indexes


def keypath(path: Iterable[Any], known_only: bool = False) -> str:
    """`instruments[0].prise` for ("instruments", 0, "prise"); keys that are not names are quoted.

    With `known_only`, a path whose first key no shipped schema names is shown as `[…]`: the file is
    not one of ours, and its keys are its content (a file under a known key has shown what it is)."""
    steps = list(path)
    if known_only and steps and not (isinstance(steps[0], str) and steps[0] in schema_words()):
        return "[…]"
    out = ""
    for step in steps:
        if isinstance(step, int) and not isinstance(step, bool):
            out += f"[{step}]"
        elif isinstance(step, str) and _IDENT.match(step):
            out += f".{step}" if out else step
        else:
            out += f"[{json.dumps(str(step), ensure_ascii=False)}]"
    return out


def parse_keypath(text: str) -> Steps:
    """The steps of a key path written as `keypath` writes it (names and [indexes])."""
    steps: list[str | int] = []
    for match in _STEP.finditer(text):
        steps.append(int(match.group(1)) if match.group(1) is not None else match.group(2))
    return tuple(steps)


@cache
def schema_words() -> frozenset[str]:
    """Every key a shipped schema names (`instruments`, `price`, `api_password`, ...)."""
    from . import schemas

    words: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            words.update(node.get("properties", {}) if isinstance(node.get("properties"), dict) else ())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in schemas.NAMES:
        walk(schemas.shared(name))
    return frozenset(words)


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxlevel = 60, 60, 4, 4, 4, 2


def clip(value: Any, limit: int = 40) -> str:
    """A value as an error message quotes it: its repr, bounded however big the value (reprlib)."""
    return _REPR.repr(value.isoformat() if isinstance(value, (date, datetime)) else value)


def nearest(word: Any, choices: Iterable[Any]) -> str | None:
    """The choice most like `word` (difflib), if one is close enough to be a likely typo."""
    options = [str(c) for c in choices]
    if len(str(word)) > 200:  # no name is that long: not a typo of one
        return None
    found = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if not found:  # a case slip (`Password`) is still a typo
        found = [c for c in options if c.lower() == str(word).lower()]
    return found[0] if found else None


# ------------------------------------------------------------------------------------ where


@dataclass
class Source:
    """Where data came from: a file (`text` holds its content) or inline content (a name only)."""

    name: str
    text: str | None = None
    json: bool = False
    _root: Any = field(default=None, repr=False)
    _composed: bool = field(default=False, repr=False)

    def where(self, path: Sequence[Any], key: bool = False) -> str:
        """`file:line:column` of the node at `path` (its key when `key`), else the name alone."""
        found = self.locate(path, key)
        return self.name if found is None else f"{self.name}:{found[0]}:{found[1]}"

    def locate(self, path: Sequence[Any], key: bool = False) -> tuple[int, int] | None:
        """(line, column), both from 1, of the node at `path` or of the deepest node on the way."""
        node = self._node()
        if node is None:
            return None
        import yaml

        mark = node.start_mark
        for n, step in enumerate(path):
            last = n == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                pair = next((kv for kv in node.value if _same_key(kv[0], step)), None)
                if pair is None:
                    break
                mark = pair[0].start_mark if (last and key) else pair[1].start_mark
                node = pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
                mark = node.start_mark
            else:
                break
        return mark.line + 1, mark.column + 1

    def _node(self) -> Any:
        if self.text is None:
            return None
        if not self._composed:
            self._composed = True
            import yaml

            # JSON is YAML but for tabs between tokens; a tab outside strings is only white space.
            text = self.text.replace("\t", " ") if self.json else self.text
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
            try:
                self._root = loader.get_single_node()
            except (yaml.YAMLError, RecursionError, ValueError):
                self._root = None  # positions are a help; the data was read already
            finally:
                loader.dispose()
        return self._root


def _same_key(node: Any, step: Any) -> bool:
    value = getattr(node, "value", None)
    return isinstance(value, str) and (value == step or value == str(step))


def inline(name: str) -> Source:
    """The source of content given inline (a mapping in a marker, a control request, a Python call)."""
    return Source(name)


# ------------------------------------------------------------------------------------ the error


class UserFileError(ValueError):
    """A user file (or inline content) refused: where, the key path, why, and the nearest valid choice.

    `str(error)` is the one-line message; `message(values=False)` leaves out the values quoted from
    the file, and the keys no schema names (the control plane's answer for a file it was asked to
    read: it may be anything, /etc/shadow included).
    """

    def __init__(
        self,
        reason: str,
        path: Sequence[Any] = (),
        *,
        value: Any = _NOTHING,
        detail: str | None = None,
        suggestion: str | None = None,
        key: bool = False,
        source: Source | None = None,
    ) -> None:
        self.reason, self.path, self.value, self.detail = reason, tuple(path), value, detail
        self.suggestion, self.key, self.source = suggestion, key, source
        self.values = True
        super().__init__(self.message())

    @classmethod
    def at(cls, path: str | Sequence[Any], reason: str, value: Any = _NOTHING, **kw: Any) -> UserFileError:
        """The error for the value at `path` (`accounts[0].leverage` or a tuple of steps)."""
        steps = parse_keypath(path) if isinstance(path, str) else tuple(path)
        return cls(reason, steps, value=value, **kw)

    def message(self, values: bool | None = None) -> str:
        """The one-line message; without the values quoted from the file when `values` is false
        (by default, unless `without_values()` was called)."""
        values = self.values if values is None else values
        text = self.reason
        if isinstance(self.value, _Shown):  # what kind of thing it is, never its content
            text += f", not {self.value}"
        elif values and self.value is not _NOTHING:
            text += f", not {clip(self.value)}"
        if values and self.detail:
            text += f": {self.detail}"
        if self.suggestion is not None:
            text += f"; did you mean {self.suggestion!r}?"
        parts = [self.source.where(self.path, self.key)] if self.source is not None else []
        if self.path:
            parts.append(keypath(self.path, known_only=not values))
        return ": ".join([*parts, text])

    def within(self, source: Source | None, prefix: Sequence[Any] = ()) -> UserFileError:
        """This error placed in `source` (below `prefix`), unless it already names its own file."""
        if source is not None and self.source is None:
            self.source, self.path = source, (*prefix, *self.path)
            self.args = (self.message(),)
        return self

    def without_values(self) -> UserFileError:
        """This error, from now on worded without the values quoted from the file."""
        self.values = False
        self.args = (self.message(),)
        return self

    def __str__(self) -> str:
        return self.message()


class _Shown(str):
    """A value already worded for a message (`a list`), quoted as it is."""


def worded(value: Any) -> str:
    """What `value` is (`a list`, `text`), for `UserFileError(value=...)`: shown even where values are not."""
    return _Shown(kind_of(value))


# ------------------------------------------------------------------------------------ reading


@dataclass
class Document:
    """A user file read whole: its data, and its text for finding positions."""

    data: Any
    source: Source


def read_document(path: str | Path, what: str, error: type[UserFileError]) -> Document:
    """Read a `.json` file, or YAML otherwise, bounded in size and in values; `error` names what is wrong.

    A syntax error is reported by line and column, with the parser's words as a detail (left out
    where values are not shown: the file may be anything).
    """
    path = Path(path)
    source = Source(str(path), json=path.suffix.lower() == ".json")
    kind = "JSON" if source.json else "YAML"
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"cannot read this {what}: {exc.strerror or exc}", source=source) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"a {what} may hold at most {MAX_FILE_BYTES // 2**20} MiB; this one is larger", source=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not valid {kind}: it is not UTF-8 text (byte {exc.start})", source=source) from None
    source.text = text
    if source.json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            at = Source(f"{path}:{exc.lineno}:{exc.colno}")
            raise error(f"not valid {kind}", detail=exc.msg, source=at) from None
        except (ValueError, RecursionError):
            raise error(f"not valid {kind}: it cannot be read as data (nested too deeply?)", source=source) from None
    else:
        import yaml  # only when a YAML file is read: it costs start-up time otherwise

        try:
            # libyaml's parser when PyYAML has it (5x faster on the demo accounts), the same safe types.
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            at = Source(f"{path}:{mark.line + 1}:{mark.column + 1}") if mark is not None else source
            raise error(f"not valid {kind}", detail=exc.problem or None, source=at) from None
        except yaml.YAMLError:
            raise error(f"not valid {kind}", source=source) from None
        except (ValueError, RecursionError, OverflowError):
            raise error(f"not valid {kind}: it cannot be read as data (nested too deeply?)", source=source) from None
    if _values_beyond(data, MAX_VALUES):
        raise error(
            f"a {what} may hold at most {MAX_VALUES:,} values once its aliases are expanded; this one holds more",
            source=source,
        )
    return Document(data, source)


def read_data_file(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The parsed content of a `.json` file, or of YAML otherwise (`read_document`'s data); `error(message)`."""
    if isinstance(error, type) and issubclass(error, UserFileError):
        return read_document(path, what, error).data
    try:
        return read_document(path, what, UserFileError).data
    except UserFileError as exc:
        raise error(str(exc)) from None


def _values_beyond(data: Any, limit: int) -> bool:
    """Whether `data`, walked as if every shared (aliased) part were copied, holds over `limit` values."""
    budget = limit - 1
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            budget -= 2 * len(item) if isinstance(item, dict) else len(item)  # values (and keys), charged as pushed
            if budget < 0:
                return True
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


# ------------------------------------------------------------------------------------ schemas

_WORDS = {
    "string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "array": "a list", "object": "a mapping", "null": "empty",
}  # fmt: skip


def kind_of(value: Any) -> str:
    """What a value is, in the words of a message: text, a number, a list, a mapping..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, (float, Decimal)):
        return "a number"
    if isinstance(value, (str, PurePath)):
        return "text"
    if isinstance(value, (date, datetime)):
        return "a date"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _is_string(checker: Any, value: Any) -> bool:
    # YAML reads an unquoted 2025-03-03 as a date: it stands for the text it was.
    return isinstance(value, (str, date, datetime, PurePath))


def _is_number(checker: Any, value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _is_integer(checker: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return (
        isinstance(value, (float, Decimal))
        and value == value
        and value not in (float("inf"), float("-inf"))
        and (value == int(value))
    )


def _text_only(keyword: str) -> Any:
    """A string keyword (pattern, minLength, maxLength) that passes over what is not text (a YAML date)."""
    from jsonschema import Draft202012Validator

    check = Draft202012Validator.VALIDATORS[keyword]

    def validate(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, str):
            yield from check(validator, value, instance, schema)

    return validate


@cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"string": _is_string, "number": _is_number, "integer": _is_integer}
    )
    return validators.extend(
        Draft202012Validator,
        {k: _text_only(k) for k in ("pattern", "minLength", "maxLength")},
        type_checker=checker,
    )


@cache
def validator(schema: str, at: str = "") -> Any:
    """A validator of the shipped schema `schema`, or of its part at the JSON pointer `at` (`#/$defs/account`)."""
    from . import schemas

    whole = schemas.shared(schema)
    if not at:
        return _validator_class()(whole)
    # The part at `at` (`#/$defs/account`, `#/properties/history`), its references resolving as in the whole.
    inner = {k: v for k, v in whole.items() if k not in ("$id", "$schema")}
    target = {"$defs": {**whole.get("$defs", {}), "whole": inner}, "$ref": at.replace("#/", "#/$defs/whole/", 1)}
    return _validator_class()(target)


def check(
    data: Any, schema: str, error: type[UserFileError], source: Source | None, at: str = "", prefix: Steps = ()
) -> None:
    """Refuse `data` that breaks the schema (or its part at `at`): `error` for the first fault in the file."""
    errors = []
    for found in validator(schema, at).iter_errors(data):
        errors.append(found)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        first = min(errors, key=lambda e: _order(data, e))
        raise _error(first, error).within(source, prefix)


def _order(data: Any, err: Any) -> tuple[int, ...]:
    """Where an error lies in the data, in document order (mapping keys keep the file's order)."""
    out: list[int] = []
    node = data
    for step in err.absolute_path:
        out.append(_index(node, step))
        node = node[step] if isinstance(node, (dict, list)) else None
    if err.validator == "additionalProperties" and isinstance(node, dict):
        out.append(min((i for i, k in enumerate(node) if k not in err.schema.get("properties", {})), default=0))
    return tuple(out)


def _index(node: Any, step: Any) -> int:
    if isinstance(node, list) and isinstance(step, int):
        return step
    if isinstance(node, dict):
        for i, k in enumerate(node):
            if k == step:
                return i
    return 0


def _error(err: Any, cls: type[UserFileError]) -> UserFileError:
    """The message for one jsonschema error, in the project's words."""
    from jsonschema.exceptions import best_match

    kw, value, schema, instance = err.validator, err.validator_value, err.schema, err.instance
    path = tuple(err.absolute_path)
    if "propertyNames" in err.absolute_schema_path:  # a key is at fault, not a value
        inner = _error_reason(kw, value, schema, instance)
        return cls(f"key {inner[0]}", (*path, instance), suggestion=inner[2], key=True)
    if kw == "additionalProperties":
        known = list(schema.get("properties", {}))
        extra = next((k for k in instance if k not in known), None)
        hint = nearest(extra, known)
        reason = "unknown key" if hint else f"unknown key; the keys are {', '.join(known)}"
        return cls(reason, (*path, extra), suggestion=hint, key=True)
    if kw == "required":
        missing = next((k for k in value if k not in instance), value[0])
        return cls(f"missing key {missing!r}", path)
    if kw in ("anyOf", "oneOf") and err.context:
        return _error(best_match(err.context), cls)
    reason, shown, hint = _error_reason(kw, value, schema, instance)
    return cls(reason, path, value=shown, suggestion=hint)


def _error_reason(kw: str, value: Any, schema: Mapping[str, Any], instance: Any) -> tuple[str, Any, str | None]:
    """(reason, the value to quote or _NOTHING, a suggestion) for one failed keyword."""
    if kw == "type":
        wanted = value if isinstance(value, list) else [value]
        return f"must be {' or '.join(_WORDS.get(str(t), str(t)) for t in wanted)}", _Shown(kind_of(instance)), None
    if kw == "enum":
        hint = nearest(instance, value) if isinstance(instance, str) else None
        return f"must be one of {', '.join(str(v) for v in value)}", instance, hint
    if kw == "const":
        return f"must be {value!r}", instance, None
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "more than",
        "exclusiveMaximum": "less than",
    }
    if kw in bounds:
        return f"must be {bounds[kw]} {value}", instance, None
    if kw == "pattern":
        return f"must be {schema.get('x-pattern-text') or 'text matching ' + value}", instance, None
    if kw in ("minLength", "minItems", "minProperties"):
        noun = {"minLength": "characters", "minItems": "entries", "minProperties": "keys"}[kw]
        return ("must not be empty" if value == 1 else f"must have at least {value} {noun}"), _NOTHING, None
    if kw in ("maxLength", "maxItems", "maxProperties"):
        noun = {"maxLength": "characters", "maxItems": "entries", "maxProperties": "keys"}[kw]
        return f"must have at most {value} {noun}", _NOTHING, None
    return f"is not valid ({kw})", _NOTHING, None
