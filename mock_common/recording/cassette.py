"""The cassette: one recorded session as a versioned, readable, diffable YAML file.

A cassette is a header (API, recorder version, contract hash, when and where it was recorded)
followed by the interactions in the order they happened, and an `end:` line that marks a complete
file (a truncated copy has none, so it is refused rather than replayed half).
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from mock_common.files import Source, UserFileError, check

FORMAT_VERSION = 1
RECORD_MODES = ("none", "once", "new_episodes", "all")


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


class _Loader(yaml.SafeLoader):
    """Keeps each mapping's line, so errors can point at it."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    data = loader.construct_mapping(node, deep=True)
    data["__line__"] = node.start_mark.line + 1
    return data


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: str | Path) -> Cassette:
    """Read a cassette; a malformed, truncated or unknown-version file raises `CassetteError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such cassette") from None
    except UnicodeDecodeError as exc:
        raise CassetteError(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    except OSError as exc:
        raise CassetteError(f"{path}: cannot be read: {exc.strerror}") from None
    return loads(text, str(path), path)


def loads(text: str, name: str = "<cassette>", path: Path | None = None) -> Cassette:
    """Parse cassette text; `name` is used in error messages."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise CassetteError(f"{name}, line {line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{name}: not valid YAML: {exc}") from None
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
    return {str(k): str(v) for k, v in value.items() if k != "__line__"}


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
    if not isinstance(method, str) or not method.isalpha():
        err.fail(req["__line__"], f"interaction {n}: request method must be an HTTP method, not {method!r}")
    if not isinstance(url, str) or not url:
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
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or offset < 0:
        err.fail(line, f"interaction {n}: offset must be seconds >= 0, not {offset!r}")
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
