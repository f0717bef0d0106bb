"""The docs' Python examples as modules a type checker reads: `python -m docgen.examples DIR`.

Each page of the docs (and the README) with ```python blocks becomes one module of the package
`DIR/doc_examples`, its blocks in order, as tests/test_docs.py runs them (the blocks of a page share
one namespace). A block sits on the same lines in the module as on the page, the rest of the lines
left empty, so a type checker's `doc_examples/docs_how_to_faults.py:27` is `docs/how-to/faults.md`
line 27. Left out, as the docs test leaves them: a block after `<!-- skip: next ... -->` (a sketch
of the reader's own code), and a block that only includes a file of tests/examples/ (that file is
type-checked as it is). `make typecheck` writes the package and runs mypy over it with the
project's configuration (pyproject.toml: `doc_examples` is checked as `tests.examples` is, bodies
checked, signatures not required, as a bot author writes tests).
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "doc_examples"
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
SKIP = re.compile(r"<!--\s*skip:\s*next\b[^>]*-->\s*$")
SNIPPET = re.compile(r'^--8<-- "[^"]+"$')
PYTHON = ("python", "py")


@dataclass(frozen=True)
class Block:
    """One runnable Python block of a page: the line its code starts on (1-based) and the code."""

    line: int
    code: str


def pages(root: Path = ROOT) -> list[Path]:
    """The README and every page of the docs, in a stable order."""
    return sorted([root / "README.md", *(root / "docs").rglob("*.md")])


def blocks(text: str) -> list[Block]:
    """The page's Python blocks that run as examples, dedented to their fence."""
    found = []
    for match in FENCE.finditer(text):
        info = match.group("info").strip()
        if not info or info.split()[0] not in PYTHON:
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if SKIP.search(before):
            continue
        indent = len(match.group("indent"))
        lines = [
            line[indent:] if line.startswith(" " * indent) else line.lstrip()
            for line in match.group("body").splitlines()
        ]
        if all(SNIPPET.match(line) for line in lines if line.strip()):
            continue  # a file of tests/examples/, shown as it is and checked as it is
        first = text.count("\n", 0, match.start()) + 2  # the fence's line, then the code's first
        found.append(Block(first, "\n".join(lines)))
    return found


def module_name(page: Path, root: Path = ROOT) -> str:
    """`docs/how-to/faults.md` -> `docs_how_to_faults`."""
    relative = page.relative_to(root).with_suffix("")
    return re.sub(r"\W", "_", "_".join(relative.parts)).lower()


def module_text(page: Path, found: list[Block], root: Path = ROOT) -> str:
    """The module of one page: each block on its own lines, every other line empty."""
    total = page.read_text(encoding="utf-8").count("\n") + 1
    lines = [""] * total
    lines[0] = f"# The Python examples of {page.relative_to(root)}, on their lines of the page (docgen/examples.py)."
    for block in found:
        for offset, code in enumerate(block.code.splitlines()):
            lines[block.line - 1 + offset] = code
    return "\n".join(lines).rstrip("\n") + "\n"


def write(dest: Path, root: Path = ROOT) -> list[Path]:
    """Write the package `dest/doc_examples` (rebuilt whole); return the modules written."""
    package = dest / PACKAGE
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The docs\' Python examples (docgen/examples.py)."""\n', encoding="utf-8")
    written = []
    for page in pages(root):
        found = blocks(page.read_text(encoding="utf-8"))
        if found:
            path = package / f"{module_name(page, root)}.py"
            path.write_text(module_text(page, found, root), encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point: write the package into the folder named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m docgen.examples DIR", file=sys.stderr)
        return 2
    written = write(Path(args[0]))
    print(f"docgen.examples: {len(written)} pages' Python examples in {Path(args[0]) / PACKAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
