"""The README's "Testing your bot with pytest" examples are the files of tests/examples/ (collected
with the suite, so they run as shown); the conftest override runs as a project of its own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"


def _section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Testing your bot with pytest")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_python_example_of_the_section_is_a_file_that_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _section(), re.DOTALL)
    assert len(blocks) >= 6
    sources = "\n".join(p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*.py")))
    missing = [b.splitlines()[0] for b in blocks if b.strip() not in sources]
    assert not missing, f"README examples not found in tests/examples/: {missing}"


def test_the_report_shown_in_the_readme_is_the_one_the_plugin_writes() -> None:
    shown = re.search(r"```\n(-+ broker-mocks streamster -+\n.*?)```", _section(), re.DOTALL)
    assert shown is not None
    expected = (ROOT / "tests" / "test_plugin.py").read_text(encoding="utf-8")
    for line in shown.group(1).splitlines()[1:]:
        assert line.strip() in expected, line


def test_the_conftest_override_example(pytester: pytest.Pytester) -> None:
    for f in (EXAMPLES / "options").iterdir():
        if f.suffix == ".py":
            shutil.copy(f, pytester.path / f.name)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
