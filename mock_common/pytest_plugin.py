"""The shared part of the broker-mocks pytest plugin (registered through the pytest11 entry point).

The option group and `--broker-journal`, the report section a failing test gets for each emulator
it used, reading options and markers, and the in-process route: what `requests` sends to an API's
real URLs goes through `responses` straight into the emulator's WSGI application, no socket.
Each emulator's own plugin module (`mock_streamster.pytest_plugin`, `mock_instaforex.pytest_plugin`)
builds its fixtures on these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from .masking import mask_entry
from .wsgi_responses import call_wsgi

GROUP = "broker-mocks"
DEFAULT_JOURNAL_LINES = 20
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def option_group(parser: pytest.Parser) -> pytest.OptionGroup:
    """The one group every broker-mocks option is listed under in `pytest --help`."""
    return parser.getgroup(GROUP, "broker-mocks: the Streamster and InstaForex emulators")


# The emulators' markers, registered once here (`pytest --markers` lists them).
MARKERS = (
    "streamster(seed=0, scenario=None, clock='virtual', history=None, step=None): this test's Streamster emulator "
    "is built with these arguments (the next test gets the defaults again)",
    "instaforex(accounts=None, token_ttl=5400, clock='virtual', seed=0, token_seed=None, generate=None): this "
    "test's InstaForex emulator is built with these arguments (the next test gets the defaults again)",
)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def pytest_addoption(parser: pytest.Parser) -> None:
    option_group(parser).addoption(
        "--broker-journal", type=int, default=None, metavar="N",
        help=f"journal entries shown in a failing test's report per emulator (default {DEFAULT_JOURNAL_LINES}; "
        "ini broker_journal)",
    )  # fmt: skip
    parser.addini(
        "broker_journal", "journal entries shown in a failing test's report", default=str(DEFAULT_JOURNAL_LINES)
    )


def journal_lines(config: pytest.Config) -> int:
    """How many journal entries a failure report shows (`--broker-journal`, else the ini key)."""
    value = config.getoption("broker_journal")
    if value is None:
        text = str(config.getini("broker_journal")).strip()
        try:
            value = int(text)
        except ValueError:
            raise pytest.UsageError(f"ini broker_journal must be a whole number, not {text!r}") from None
    if value < 0:
        raise pytest.UsageError(f"--broker-journal must be >= 0, not {value}")
    return int(value)


# ----------------------------------------------------------------------------- options and markers


def setting(config: pytest.Config, name: str, convert: Callable[[str], Any], default: Any, path: bool = False) -> Any:
    """An option's value: `--name` on the command line, else the ini key `name`, else `default`.

    A path from the command line is taken from the invocation directory, one from the ini file
    from the root directory."""
    value = config.getoption(name)
    if value is not None:
        return str(Path(value).resolve()) if path else value
    text = config.getini(name)
    if text in (None, "", []):
        return default
    try:
        value = convert(str(text).strip())
    except ValueError:
        raise pytest.UsageError(f"ini {name} = {text!r} is not valid") from None
    return str((config.rootpath / value).resolve()) if path else value


def add_setting(
    parser: pytest.Parser, name: str, help_text: str, convert: Callable[[str], Any] = str, **kw: Any
) -> None:
    """`--<name>` and the ini key `<name>` (dashes as underscores), listed in the broker-mocks group."""
    dest = name.replace("-", "_")
    option_group(parser).addoption(
        f"--{name}", dest=dest, type=convert, default=None, help=f"{help_text} (ini {dest})", **kw
    )
    parser.addini(dest, help_text, default="")


def marker_arguments(item: pytest.Item, marker: str, allowed: Iterable[str]) -> dict[str, Any]:
    """The keyword arguments of the closest `@pytest.mark.<marker>(...)` (empty without one); a
    positional argument or an unknown keyword fails the test with a message naming it."""
    found = item.get_closest_marker(marker)
    if found is None:
        return {}
    if found.args:
        pytest.fail(f"@pytest.mark.{marker} takes keyword arguments only, not {found.args!r}", pytrace=False)
    unknown = sorted(set(found.kwargs) - set(allowed))
    if unknown:
        pytest.fail(
            f"@pytest.mark.{marker} has no argument {', '.join(unknown)}; it takes {', '.join(sorted(allowed))}",
            pytrace=False,
        )
    return dict(found.kwargs)


def resolve_path(item: pytest.Item, value: Any) -> Any:
    """A relative file path in a marker, found next to the test file first, else from the root (in a
    mapping, each value that is a path or a mapping with a `path`)."""
    if isinstance(value, dict):
        return {
            k: {**v, "path": resolve_path(item, v["path"])} if isinstance(v, dict) and "path" in v
            else resolve_path(item, v)
            for k, v in value.items()
        }  # fmt: skip
    if not isinstance(value, (str, Path)):
        return value
    path = Path(value)
    if path.is_absolute():
        return str(path)
    beside = Path(str(item.path)).parent / path
    return str(beside if beside.exists() else item.config.rootpath / path)


# ----------------------------------------------------------------------------- failure reports


def clock_mode(text: str) -> str:
    """A clock option's value: virtual or real (ValueError otherwise)."""
    if text not in ("virtual", "real"):
        raise ValueError(text)
    return text


def fresh(
    request: pytest.FixtureRequest,
    server: Any,
    options: dict[str, Any],
    marker: str,
    allowed: Iterable[str],
    path_argument: str | tuple[str, ...],
    complete: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> Any:
    """The session's emulator as a new one would be for this test: reset, or configured as the
    test's marker says (`path_argument`, one or several, resolved next to the test file). `complete`
    fills in the constructor's defaults, so arguments compare whole."""
    marked = marker_arguments(request.node, marker, allowed)
    for name in (path_argument,) if isinstance(path_argument, str) else path_argument:
        if name in marked:
            marked[name] = resolve_path(request.node, marked[name])
    wanted = complete({**options, **marked})
    if wanted != complete(server.arguments):
        server.configure(**wanted)
    else:
        server.reset()
    return server


def emulator_fixtures(
    name: str,
    factory: Callable[..., Any],
    allowed: Iterable[str],
    path_argument: str | tuple[str, ...],
    complete: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> tuple[Any, Any]:
    """The `<name>_server` (session) and `<name>_mock` (per test) fixtures of one emulator, built
    by `factory(**<name>_options)`; the emulator's plugin module binds them at its top level."""

    def server(request: pytest.FixtureRequest) -> Iterator[Any]:
        with factory(**request.getfixturevalue(f"{name}_options")) as mock:
            yield mock

    def mock(request: pytest.FixtureRequest) -> Any:
        options = request.getfixturevalue(f"{name}_options")
        return fresh(
            request, request.getfixturevalue(f"{name}_server"), options, name, allowed, path_argument, complete
        )

    server.__doc__ = "One emulator for the whole session (each xdist worker has its own, on a free port)."
    mock.__doc__ = (
        f"The session's emulator as a new one would be: reset, or rebuilt as the test's @pytest.mark.{name} says."
    )
    return pytest.fixture(scope="session", name=f"{name}_server")(server), pytest.fixture(name=f"{name}_mock")(mock)


def describe(title: str, seed: Any, now: str, clock: str, journal: Any, lines: int) -> str:
    """The report section's text: seed, time, the newest journal entries."""
    total = journal.total
    shown = journal.last(lines)
    out = [f"{title}: seed {seed}, {clock} clock, time {now}", f"journal: last {len(shown)} of {total} calls"]
    out += [f"  {mask_entry(e).summary(160)}" for e in shown]  # secrets masked on the parsed body
    return "\n".join(out)


def add_report_section(item: pytest.Item, report: pytest.TestReport, fixtures: tuple[str, ...], title: str,
                       text: Callable[[Any, int], str]) -> None:  # fmt: skip
    """On a failing report, add a section from the first of `fixtures` the test used."""
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for name in fixtures:
        if name in funcargs:
            lines = journal_lines(item.config)
            try:
                content = text(funcargs[name], lines)
            except Exception as exc:  # a report must never hide the failure it explains
                content = f"(could not describe the emulator: {exc!r})"
            report.sections.append((f"broker-mocks {title}", content))
            return


# ----------------------------------------------------------------------------- the in-process route


class InProcessRoute:
    """Every request `requests` sends to `urls` goes into an emulator's WSGI app, through `responses`.

    Attributes not its own are the emulator's (`route.assert_called(...)`, `route.journal`).
    """

    def __init__(self, mock: Any, app: Callable[..., Iterable[bytes]], urls: tuple[str, ...], rsps: Any) -> None:
        from .wsgi_responses import FunctionResponse, base_pattern

        self.mock, self.urls, self.responses = mock, urls, rsps
        self.url = urls[0]

        def answer(request: requests.PreparedRequest) -> Any:
            return call_wsgi(app, request)

        rsps.add_passthru(mock.url)  # the emulator's own port stays reachable (the reference clients use it)
        # One registration for every method and base URL: `responses` tests each registration per request.
        rsps.add(FunctionResponse(base_pattern(urls), answer, METHODS))

    def add_passthru(self, prefix: str | re.Pattern[str]) -> None:
        """Let requests to `prefix` reach the network (everything else unrouted raises)."""
        self.responses.add_passthru(prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mock, name)


@pytest.fixture
def broker_responses() -> Iterator[Any]:
    """One `responses.RequestsMock` per test that the in-process routes share (a request to a URL
    no route serves raises ConnectionError, as `responses` does, unless passed through)."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def arguments_text(arguments: Mapping[str, Any]) -> str:
    """`seed=0, clock='virtual', ...` for a report."""
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items() if v is not None)
