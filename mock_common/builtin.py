"""Data files that ship inside the package, known by name (`--scenario demo`, `accounts="demo"`).

Each emulator declares its own (`mock_streamster.data`, `mock_instaforex.data`). A value that is
exactly a built-in name, as text, is that file; anything else (a path with a folder or a suffix,
or a `pathlib.Path`) is a path as before. A file of yours called `demo` is `./demo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Builtins:
    """The named files of one kind (`what`: "scenario", "accounts file", "cassette") in `package`."""

    what: str
    package: str
    files: Mapping[str, str]  # name -> file name inside the package

    def names(self) -> list[str]:
        """The built-in names, sorted."""
        return sorted(self.files)

    def is_name(self, value: Any) -> bool:
        """Whether `value` names a built-in (text equal to a name; a `Path` is always a path)."""
        return isinstance(value, str) and value in self.files

    def path(self, name: str) -> Path:
        """Where the built-in `name` lies; ValueError listing the names when there is none."""
        if name not in self.files:
            raise ValueError(f"there is no built-in {self.what} {name!r}; the built-ins are {', '.join(self.names())}")
        return Path(str(resources.files(self.package).joinpath(self.files[name])))

    def resolve(self, value: Any) -> Any:
        """The packaged file for a built-in name; any other value unchanged."""
        return self.path(value) if self.is_name(value) else value
