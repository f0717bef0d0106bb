"""The checkout laid out as the wheel installs it, as a tree of links: `python -m docgen.layout DIR`.

pyproject.toml maps the top-level folders `client/` and `conformance/` to `broker_mocks.client` and
`broker_mocks.conformance` (setuptools' package-dir). Tools that read source files by their place
(mypy, griffe for the API reference) cannot follow that mapping, nor the editable install's import
hook, so they are given this tree instead: DIR/broker_mocks holds a link to each entry of
`broker_mocks/` and, under the mapped names, links to the mapped folders. The links point into the
checkout, so an edit is seen at once. The tree is rebuilt whole each time (a stale link never stays).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# [tool.setuptools.package-dir] of pyproject.toml (tests/test_docs.py holds the two to each other).
PACKAGE_DIR = {"broker_mocks.client": "client", "broker_mocks.conformance": "conformance"}


def build(dest: Path, root: Path = ROOT) -> Path:
    """Make `dest/broker_mocks` the installed package as links into `root`; return `dest`."""
    package = dest / "broker_mocks"
    if package.is_symlink() or package.is_file():
        package.unlink()
    elif package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    mapped = {name.split(".", 1)[1]: folder for name, folder in PACKAGE_DIR.items()}
    for entry in sorted((root / "broker_mocks").iterdir()):
        if entry.name == "__pycache__" or entry.name in mapped:
            continue
        (package / entry.name).symlink_to(os.path.relpath(entry, package))
    for name, folder in mapped.items():
        (package / name).symlink_to(os.path.relpath(root / folder, package), target_is_directory=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    """Entry point: build the tree in the folder named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m docgen.layout DIR", file=sys.stderr)
        return 2
    build(Path(args[0]).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
