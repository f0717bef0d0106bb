"""Reading data files (YAML or JSON, chosen by suffix) with errors that name the file and never quote it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

# A field path at the start of a validation message: accounts[0].trades[2].volume, seed, desks[1]
_FIELD = re.compile(r"([A-Za-z_]\w*(?:\[\d+\]|\.\w+)*)(?= must | needs | is required|:)")


def read_data_file(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The parsed content of a `.json` file, or of YAML otherwise; `error(message)` when it fails.

    A syntax error is reported by line and column only: the file may be anything (a control request
    can name any path), so its lines are never quoted back.
    """
    path = Path(path)
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{what} {str(path)!r} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{what} {str(path)!r} is not valid {kind}: it is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {str(path)!r} is not valid JSON at line {exc.lineno}, column {exc.colno}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{what} {str(path)!r} is not valid YAML{where}") from None
    except (ValueError, RecursionError):
        raise error(f"{what} {str(path)!r} is not valid {kind}: it cannot be read as data") from None


def without_content(what: str, path: str, message: str) -> str:
    """The error for a file a control request asked to load: the file and where the problem is,
    never the file's content (a validation message quotes values; this one keeps only the field).

    Read and syntax errors from `read_data_file` carry no content and are kept as they are.
    """
    if message.startswith(f"{what} {path!r} "):
        return message
    field = _FIELD.match(message)
    where = f"at {field.group(1)}" if field else "in its content"
    return (
        f"{path!r} is not a valid {what}: the problem is {where} (the file's content is not shown here; "
        "load it with the command line or the Python API for the details)"
    )
