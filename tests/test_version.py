"""One version everywhere: the package's `__version__`, every command's `--version`, the newest
CHANGELOG.md release (Keep a Changelog, semantic versioning)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import broker_mocks
from broker_mocks.cli import build_parser as launcher_parser
from mock_instaforex.cli import build_parser as instaforex_parser
from mock_streamster.cli import build_parser as streamster_parser

ROOT = Path(__file__).resolve().parent.parent
PARSERS = {"broker-mocks": launcher_parser, "mock-streamster": streamster_parser, "mock-instaforex": instaforex_parser}


def _commands(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    for action in parser._actions:  # argparse keeps subcommands only there
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, [*prefix, name])
    return found


@pytest.mark.parametrize("program", sorted(PARSERS))
def test_every_command_and_subcommand_prints_the_version(program: str, capsys: pytest.CaptureFixture[str]) -> None:
    commands = _commands(PARSERS[program](), [])
    assert len(commands) > 1
    for argv in commands:
        with pytest.raises(SystemExit) as stopped:
            PARSERS[program]().parse_args([*argv, "--version"])
        assert stopped.value.code == 0, argv
        assert broker_mocks.__version__ in capsys.readouterr().out, argv


def test_the_changelog_starts_at_this_release_in_keep_a_changelog_form() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.fullmatch(r"\d+\.\d+\.\d+", broker_mocks.__version__)  # semantic versioning
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert releases[0] == ("Unreleased", "") and releases[1][0] == broker_mocks.__version__ and releases[1][1]
    sections = set(re.findall(r"^### (\w+)$", text, re.MULTILINE))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"} and "Added" in sections
