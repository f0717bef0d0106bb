"""The pytest how-to (docs/how-to/pytest.md) shows the files of tests/examples/ (included at build time,
collected with the suite); what it shows besides them is checked here: the failure report is the one
the plugin writes, and the conftest override runs as a project of its own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"
PAGE = ROOT / "docs" / "how-to" / "pytest.md"


def test_every_file_the_page_shows_is_an_example_of_the_suite() -> None:
    shown = re.findall(r'^--8<-- "([^"]+)"$', PAGE.read_text(encoding="utf-8"), re.M)
    assert len(shown) >= 6
    for name in shown:
        assert (ROOT / name).is_file() and EXAMPLES in (ROOT / name).parents, name


def test_the_report_shown_is_the_one_the_plugin_writes() -> None:
    shown = re.search(r"```text\n(-+ broker-mocks streamster -+\n.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert shown is not None
    expected = (ROOT / "tests" / "test_plugin.py").read_text(encoding="utf-8")
    for line in shown.group(1).splitlines()[1:]:
        assert line.strip() in expected, line


def test_the_conftest_override_example(pytester: pytest.Pytester) -> None:
    for f in (EXAMPLES / "options").iterdir():
        if f.suffix == ".py":
            shutil.copy(f, pytester.path / f.name)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
