"""The cassette: one recorded session as a versioned, readable, diffable YAML file.

A cassette is a header (API, recorder version, contract hash, when and where it was recorded)
followed by the interactions in the order they happened, and an `end:` line that marks a complete
file (a truncated copy has none, so it is refused rather than replayed half).

Loading is bounded (`Limits`): the file's size is checked before it is parsed, its nesting, aliases
and values are counted on the parser's events before anything is built, and the whole load has a
deadline. A file over a limit is refused with its name and the limit, never half read.
"""

from __future__ import annotations

import base64
import math
import os
import re
import tempfile
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mock_common.files import Source, UserFileError, check

FORMAT_VERSION = 1
RECORD_MODES = ("none", "once", "new_episodes", "all")
_HEADER_KEYS = ("version", "api", "recorder", "contract", "recorded_at", "upstream", "source", "logins")
_TOP_KEYS = set(_HEADER_KEYS) | {"interactions", "end"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110 token)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a header value (HTAB is)
_URL_CONTROL = re.compile(r"[\x00-\x20\x7f]")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What loading one cassette may cost; a file over any limit is refused, naming it."""

    max_bytes: int = 64 * MIB  # the file's size
    max_depth: int = 32  # nested mappings and lists (a cassette needs 6)
    max_aliases: int = 1000  # YAML aliases (`*name`); the recorder writes none
    max_nodes: int = 2_000_000  # values of any kind (a 1,000-interaction cassette has about 20,000)
    max_seconds: float = 20.0  # parsing and building, together


LIMITS = Limits()


class CassetteError(ValueError):
    """A cassette that cannot be read or written; the message names the file, the line and the reason."""


def recorder_version() -> str:
    """`broker-mocks <version>`, the recorder named in every header."""
    try:
        return f"broker-mocks {metadata.version('broker-mocks')}"
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "broker-mocks (not installed)"


@dataclass
class Request:
    """What the client sent. `url` is relative to the cassette's `upstream` when it lies under it."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    soap_action: str | None = None

    def header(self, name: str) -> str | None:
        """A header's value, name case-insensitive."""
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), None)


@dataclass
class Response:
    """What the server answered."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    binary: bool = False  # the body is base64 (it was not UTF-8 text)

    def header(self, name: str) -> str | None:
        """A header's value, name case-insensitive."""
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), None)

    def content(self) -> bytes:
        """The body as bytes."""
        return base64.b64decode(self.body) if self.binary else self.body.encode("utf-8")


@dataclass
class Interaction:
    """One request and its answer, `offset` seconds after the session's first request."""

    request: Request
    response: Response
    offset: float = 0.0
    line: int = 0  # where it starts in the file it was loaded from (0: not loaded from a file)


@dataclass
class Cassette:
    """A recorded session."""

    api: str
    interactions: list[Interaction] = field(default_factory=list)
    upstream: str = ""
    contract: dict[str, str] = field(default_factory=dict)
    source: str = ""
    recorder: str = field(default_factory=recorder_version)
    recorded_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    logins: list[str] = field(default_factory=list)  # the fake logins the scrubber put in
    version: int = FORMAT_VERSION
    path: Path | None = None

    def to_data(self) -> dict[str, Any]:
        """The cassette as plain YAML-ready data, keys in the documented order."""
        data: dict[str, Any] = {
            "version": self.version,
            "api": self.api,
            "recorder": self.recorder,
            "contract": dict(self.contract),
            "recorded_at": self.recorded_at,
            "upstream": self.upstream,
            "source": self.source,
        }
        if self.logins:
            data["logins"] = list(self.logins)
        data["interactions"] = [_interaction_data(i) for i in self.interactions]
        data["end"] = len(self.interactions)
        return data

    def dumps(self) -> str:
        """The YAML text."""
        return yaml.dump(self.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _interaction_data(i: Interaction) -> dict[str, Any]:
    req: dict[str, Any] = {"method": i.request.method, "url": i.request.url}
    if i.request.soap_action is not None:
        req["soap_action"] = i.request.soap_action
    req["headers"] = dict(i.request.headers)
    req["body"] = i.request.body
    resp: dict[str, Any] = {"status": i.response.status, "headers": dict(i.response.headers)}
    resp["body_base64" if i.response.binary else "body"] = i.response.body
    return {"offset": round(i.offset, 3), "request": req, "response": resp}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so bodies read (and diff) line by line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def save(cassette: Cassette, path: str | Path, text: str | None = None) -> None:
    """Write atomically (a temporary file renamed over the old one): a reader never sees half a file."""
    path = Path(path)
    text = cassette.dumps() if text is None else text
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cassette is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    cassette.path = path


# ------------------------------------------------------------------------------------ loading


# libyaml when PyYAML has it (ten times faster), else the pure-Python parser: the same documents load.
# Checked as SafeLoader: CSafeLoader has the same construct/parse API (only the parser is libyaml's).
if TYPE_CHECKING:
    _BASE_LOADER = yaml.SafeLoader
else:
    _BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _OverrunError(Exception):
    """A load ran past its deadline."""


class _Loader(_BASE_LOADER):
    """Keeps each mapping's line, so errors can point at it, and stops at its deadline."""

    deadline = math.inf
    _built = 0

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        self._built += 1
        if not self._built & 4095 and time.monotonic() > self.deadline:
            raise _OverrunError
        return super().construct_object(node, deep)


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Hashable, Any]:  # YAML keys: any scalar
    data = loader.construct_mapping(node, deep=True)
    data["__line__"] = node.start_mark.line + 1
    return data


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _size(limits: Limits) -> str:
    mib = limits.max_bytes / MIB
    return f"{mib:g} MiB" if mib >= 1 else f"{limits.max_bytes} bytes"


def load(path: str | Path, limits: Limits = LIMITS) -> Cassette:
    """Read a cassette; a malformed, truncated, unknown-version or over-limit file raises `CassetteError`."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            # Never more than the limit is read: /dev/zero or a huge file is refused, not swallowed.
            size = os.fstat(f.fileno()).st_size
            raw = f.read(limits.max_bytes + 1) if size <= limits.max_bytes else b""
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such cassette") from None
    except IsADirectoryError:
        raise CassetteError(f"{path}: is a directory, not a cassette file") from None
    except OSError as exc:
        raise CassetteError(f"{path}: cannot be read: {exc.strerror}") from None
    if size > limits.max_bytes or len(raw) > limits.max_bytes:
        raise CassetteError(f"{path}: larger than the limit of {_size(limits)} for a cassette; not read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    return loads(text, str(path), path, limits)


def _line(event: yaml.Event) -> int | str:
    """An event's line, from 1 (the parser marks every event it makes)."""
    mark = event.start_mark
    return mark.line + 1 if mark is not None else "?"


def _scan(text: str, name: str, limits: Limits, deadline: float) -> None:
    """Count nesting, aliases and values on the parser's events, before anything is built."""
    depth = aliases = nodes = 0
    for n, event in enumerate(yaml.parse(text, Loader=_BASE_LOADER)):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            nodes += 1
            if depth > limits.max_depth:
                line = _line(event)
                raise CassetteError(f"{name}, line {line}: nested deeper than the limit of {limits.max_depth} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                line = _line(event)
                raise CassetteError(
                    f"{name}, line {line}: more than the limit of {limits.max_aliases} YAML aliases in a cassette"
                )
        if nodes > limits.max_nodes:
            line = _line(event)
            raise CassetteError(f"{name}, line {line}: more than the limit of {limits.max_nodes} values in a cassette")
        if not n & 4095 and time.monotonic() > deadline:
            raise _OverrunError


def _parse(text: str, name: str, limits: Limits) -> Any:
    """The YAML document, within the limits."""
    if len(text) > limits.max_bytes or len(text.encode("utf-8")) > limits.max_bytes:
        raise CassetteError(f"{name}: larger than the limit of {_size(limits)} for a cassette; not read")
    deadline = time.monotonic() + limits.max_seconds
    try:
        _scan(text, name, limits, deadline)
        loader = _Loader(text)
        loader.deadline = deadline
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _OverrunError:
        raise CassetteError(
            f"{name}: reading it took longer than the limit of {limits.max_seconds:g} s for a cassette"
        ) from None
    except RecursionError:  # the depth limit stops this first; a smaller stack must not give a traceback
        raise CassetteError(f"{name}: nested too deeply to read") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        if "nesting depth" in str(exc.problem):  # libyaml's own (larger) depth limit: say ours
            raise CassetteError(
                f"{name}, line {line}: nested deeper than the limit of {limits.max_depth} levels"
            ) from None
        raise CassetteError(f"{name}, line {line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{name}: not valid YAML: {exc}") from None


def loads(text: str, name: str = "<cassette>", path: Path | None = None, limits: Limits = LIMITS) -> Cassette:
    """Parse cassette text within `limits`; `name` is used in error messages."""
    data = _parse(text, name, limits)
    last_line = text.count("\n") + 1
    if not isinstance(data, dict):
        raise CassetteError(f"{name}, line 1: a cassette is a YAML mapping with a header and interactions")
    err = _Errors(name)
    if "end" not in data:
        err.fail(last_line, "truncated: the file ends without its closing 'end:' line")
    _check_header(data, name, text)
    raw = data["interactions"]
    interactions = [_interaction(item, n, err) for n, item in enumerate(raw, 1)]
    if data["end"] != len(interactions):
        err.fail(
            last_line, f"'end: {data['end']!r}' says {data['end']!r} interactions, the file holds {len(interactions)}"
        )
    contract = data.get("contract") or {}
    logins = data.get("logins") or []
    return Cassette(
        api=data["api"],
        interactions=interactions,
        upstream=str(data.get("upstream") or ""),
        contract={k: str(v) for k, v in contract.items() if k != "__line__"},
        source=str(data.get("source") or ""),
        recorder=str(data.get("recorder") or ""),
        recorded_at=str(data["recorded_at"]),
        logins=[str(x) for x in logins],
        version=FORMAT_VERSION,
        path=path,
    )


def _check_header(data: dict[str, Any], name: str, text: str) -> None:
    """The header against the shipped schema ("cassette"), in the one wording of user files
    (`c.yaml:2:6: api: must be one of streamster, instaforex, ...`); each interaction is checked as it is read."""
    header = {k: v for k, v in data.items() if k != "__line__"}
    header["interactions"] = [] if isinstance(data.get("interactions"), list) else data.get("interactions")
    if isinstance(header.get("contract"), dict):
        header["contract"] = {k: v for k, v in header["contract"].items() if k != "__line__"}
    try:
        check(header, "cassette", UserFileError, Source(name, text))
    except UserFileError as exc:
        raise CassetteError(str(exc)) from None


class _Errors:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, line: int | str, reason: str) -> None:
        raise CassetteError(f"{self.name}, line {line}: {reason}")


def _headers(value: Any, line: int, what: str, err: _Errors) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        err.fail(line, f"{what} headers must be a mapping, not {type(value).__name__}")
    line = value.get("__line__", line)
    out: dict[str, str] = {}
    for name, raw in value.items():
        if name == "__line__":
            continue
        # A name or value that could not go on the wire as it is would make the replay server fail, or
        # split one header into two: refused here, with the file's line.
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            err.fail(line, f"{what} header name {name!r} is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)")
        if isinstance(raw, (dict, list)) or raw is None:
            err.fail(line, f"{what} header {name}: the value must be text, not {type(raw).__name__}")
        text = str(raw)
        bad = _CONTROL.search(text)
        if bad:
            err.fail(line, f"{what} header {name}: the value holds a control character ({bad.group()!r}: CR, LF, ...)")
        out[name] = text
    return out


def _interaction(item: Any, n: int, err: _Errors) -> Interaction:
    if not isinstance(item, dict):
        err.fail("?", f"interaction {n} must be a mapping (offset, request, response), not {item!r}")
    line = item["__line__"]
    req, resp = item.get("request"), item.get("response")
    if not isinstance(req, dict):
        err.fail(line, f"interaction {n} has no request mapping")
    if not isinstance(resp, dict):
        err.fail(line, f"interaction {n} has no response mapping")
    method, url = req.get("method"), req.get("url")
    if not isinstance(method, str) or not _TOKEN.fullmatch(method) or not method.isalpha():
        err.fail(req["__line__"], f"interaction {n}: request method must be an HTTP method, not {method!r}")
    if not isinstance(url, str) or not url or _URL_CONTROL.search(url):
        err.fail(req["__line__"], f"interaction {n}: request url must be a path or URL, not {url!r}")
    status = resp.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        err.fail(resp["__line__"], f"interaction {n}: response status must be 100-599, not {status!r}")
    body = req.get("body", "")
    if not isinstance(body, str):
        err.fail(req["__line__"], f"interaction {n}: request body must be text, not {type(body).__name__}")
    binary = "body_base64" in resp
    rbody = resp.get("body_base64" if binary else "body", "")
    if not isinstance(rbody, str):
        err.fail(resp["__line__"], f"interaction {n}: response body must be text, not {type(rbody).__name__}")
    if binary:
        try:
            base64.b64decode(rbody, validate=True)
        except ValueError:
            err.fail(resp["__line__"], f"interaction {n}: body_base64 is not base64")
    offset = item.get("offset", 0.0)
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not 0 <= offset < math.inf:
        err.fail(line, f"interaction {n}: offset must be a finite number of seconds >= 0, not {offset!r}")
    action = req.get("soap_action")
    return Interaction(
        request=Request(
            method=method.upper(),
            url=url,
            headers=_headers(req.get("headers"), req["__line__"], f"interaction {n}: request", err),
            body=body,
            soap_action=None if action is None else str(action),
        ),
        response=Response(
            status=status,
            headers=_headers(resp.get("headers"), resp["__line__"], f"interaction {n}: response", err),
            body=rbody,
            binary=binary,
        ),
        offset=float(offset),
        line=line,
    )
