"""Reading data files (YAML or JSON, chosen by suffix) with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_data_file(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The parsed content of a `.json` file, or of YAML otherwise; `error(message)` when it fails."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{what} {str(path)!r} cannot be read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise error(f"{what} {path.name} is not valid JSON: {exc}") from None
    import yaml  # only when a YAML file is read: it costs start-up time otherwise

    try:
        # libyaml's parser when PyYAML has it (5x faster on the demo accounts), the same safe types.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (ValueError, yaml.YAMLError) as exc:
        raise error(f"{what} {path.name} is not valid YAML: {exc}") from None
