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
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, overload

import pytest
import requests

from .builtin import Builtins
from .files import Source, UserFileError, inline, nearest, worded
from .handle import MockServer
from .journal import Journal
from .masking import mask_entry
from .wsgi_responses import call_wsgi

if TYPE_CHECKING:  # for annotations only: `responses` is imported when a test first asks for a route
    from responses import RequestsMock

GROUP = "broker-mocks"
DEFAULT_JOURNAL_LINES = 20
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def option_group(parser: pytest.Parser) -> pytest.OptionGroup:
    """The one group every broker-mocks option is listed under in `pytest --help`."""
    return parser.getgroup(GROUP, "broker-mocks: the Streamster and InstaForex emulators")


# The emulators' markers, registered once here (`pytest --markers` lists them).
MARKERS = (
    "streamster(seed=0, scenario=None, clock='virtual', history=None, step=None): this test's Streamster emulator "
    "is built with these arguments (the next test gets the defaults again); scenario: a file beside the test, a "
    "built-in (demo, day) or a mapping; history: instrument -> price history file",
    "instaforex(accounts=None, token_ttl=5400, clock='virtual', seed=0, token_seed=None, generate=None): this "
    "test's InstaForex emulator is built with these arguments (the next test gets the defaults again); accounts: "
    "a file beside the test, the built-in demo or a mapping",
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


T = TypeVar("T")
D = TypeVar("D")


@overload
def setting(
    config: pytest.Config, name: str, convert: Callable[[str], T], default: D, path: Literal[False] = False
) -> T | D: ...
@overload
def setting(
    config: pytest.Config,
    name: str,
    convert: Callable[[str], str],
    default: D,
    path: Literal[True],
    keep: Callable[[str], bool] = ...,
) -> str | D: ...
def setting(
    config: pytest.Config,
    name: str,
    convert: Callable[[str], object],
    default: object,
    path: bool = False,
    keep: Callable[[str], bool] = lambda value: False,
) -> object:
    """An option's value: `--name` on the command line, else the ini key `name`, else `default`.

    A path from the command line is taken from the invocation directory, one from the ini file
    from the root directory; a value `keep` accepts (a built-in name such as `demo`) stays as it is."""
    value = config.getoption(name)  # argparse has converted it with `convert`
    if value is not None:
        return str(Path(value).resolve()) if path and not keep(value) else value
    text = config.getini(name)
    if text in (None, "", []):
        return default
    try:
        converted = convert(str(text).strip())
    except ValueError:
        raise pytest.UsageError(f"ini {name} = {text!r} is not valid") from None
    if path and isinstance(converted, str) and not keep(converted):  # a path's `convert` is str (the overloads)
        return str((config.rootpath / converted).resolve())
    return converted


def add_setting(
    parser: pytest.Parser, name: str, help_text: str, convert: Callable[[str], Any] = str, **kw: Any
) -> None:
    """`--<name>` and the ini key `<name>` (dashes as underscores), listed in the broker-mocks group."""
    dest = name.replace("-", "_")
    option_group(parser).addoption(
        f"--{name}", dest=dest, type=convert, default=None, help=f"{help_text} (ini {dest})", **kw
    )
    parser.addini(dest, help_text, default="")


class Emulator(Protocol):
    """What the fixtures need of an emulator's handle (StreamsterMock, InstaForexMock): served in a `with`,
    its constructor's `arguments`, `configure` to rebuild it with others, `reset` to go back to them."""

    arguments: dict[str, Any]

    def configure(self, *args: Any, **kwargs: Any) -> None: ...

    def reset(self) -> None: ...

    def __enter__(self) -> object: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


E = TypeVar("E", bound=Emulator)


@dataclass(frozen=True)
class Marked(Generic[E]):
    """What a marker argument's check needs: the test, its emulator, and how to name the marker in a message."""

    item: pytest.Item
    server: E
    marker: str

    @property
    def where(self) -> str:
        """`tests/test_bot.py:12: @pytest.mark.streamster`: the test and its marker."""
        path, line, _ = self.item.location
        return f"{path}:{(line or 0) + 1}: @pytest.mark.{self.marker}"

    def source(self, argument: str) -> Source:
        """The name an inline mapping given as `argument` goes by in a message."""
        return inline(f"{self.where}({argument}=...)")

    def path(self, value: str | Path) -> str:
        """A relative file path, found next to the test file first, else from the root directory."""
        path = Path(value)
        if path.is_absolute():
            return str(path)
        beside = Path(str(self.item.path)).parent / path
        return str(beside if beside.exists() else self.item.config.rootpath / path)


# A marker argument's check: its value as the emulator takes it, or UserFileError (the reason).
# The value is what the test wrote in the marker (anything), the result what the emulator's `configure` takes.
Check = Callable[[Any, Marked[Any]], Any]


def whole_number(low: int = 0, high: int | None = None, empty: bool = True) -> Check:
    """A whole number from `low` (to `high`), or None when `empty`."""

    def check(value: Any, marked: Marked[Any]) -> Any:
        if value is None and empty:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserFileError("must be a whole number", value=worded(value))
        if value < low or (high is not None and value > high):
            raise UserFileError(
                f"must be from {low} to {high}" if high is not None else f"must be at least {low}", value=value
            )
        return value

    return check


def seconds(value: Any, marked: Marked[Any]) -> Any:
    """A number of seconds above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserFileError("must be a number of seconds", value=worded(value))
    if not 0 < value < float("inf"):
        raise UserFileError("must be more than 0 seconds", value=value)
    return value


def choice(*choices: str) -> Check:
    """One of `choices`."""

    def check(value: Any, marked: Marked[Any]) -> Any:
        if value not in choices:
            raise UserFileError(
                f"must be one of {', '.join(choices)}", value=value,
                suggestion=nearest(value, choices) if isinstance(value, str) else None,
            )  # fmt: skip
        return value

    return check


def data_file(builtins: Builtins, content: Callable[[dict[str, Any], Marked[Any], str], Any]) -> Check:
    """A file path (next to the test file, or from the root directory), a built-in name, an inline
    mapping (`content` checks it), or None for the default."""

    def check(value: Any, marked: Marked[Any]) -> Any:
        if value is None or builtins.is_name(value):
            return value
        if isinstance(value, (str, Path)):
            return marked.path(value)
        if isinstance(value, dict):
            return content(value, marked, builtins.what)
        raise UserFileError(
            f"must be a file path, a built-in name ({', '.join(builtins.names())}) or a mapping", value=worded(value)
        )

    return check


def marker_arguments(marked: Marked[Any], allowed: Mapping[str, Check]) -> dict[str, Any]:
    """The keyword arguments of the test's closest `@pytest.mark.<marker>(...)` (empty without one),
    each checked: a positional argument, an unknown keyword or a bad value raises UserFileError."""
    found = marked.item.get_closest_marker(marked.marker)
    if found is None:
        return {}
    where = inline(marked.where)
    if found.args:
        raise UserFileError("takes keyword arguments only", value=found.args, source=where)
    out: dict[str, Any] = {}
    for name, value in found.kwargs.items():
        if name not in allowed:
            hint = nearest(name, allowed)
            reason = "unknown argument" if hint else f"unknown argument; the arguments are {', '.join(allowed)}"
            raise UserFileError(reason, (name,), suggestion=hint, source=where)
        try:
            out[name] = allowed[name](value, marked)
        except UserFileError as exc:
            raise exc.within(where, (name,)) from None
    return out


def fresh(
    request: pytest.FixtureRequest,
    server: E,
    options: dict[str, Any],
    marker: str,
    allowed: Mapping[str, Check],
    complete: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> E:
    """The session's emulator as a new one would be for this test: reset, or configured as the
    test's marker says. `complete` fills in the constructor's defaults, so arguments compare whole.

    A marker (or a file it names) that cannot be used fails the test with one line saying where and why."""
    item: pytest.Item = request.node  # a function-scoped fixture's node is its test (pytest types it Any)
    try:
        marked = marker_arguments(Marked(item, server, marker), allowed)
        wanted = complete({**options, **marked})
        if wanted != complete(server.arguments):
            server.configure(**wanted)
        else:
            server.reset()
    except UserFileError as exc:
        refusal = str(exc)
    else:
        return server
    pytest.fail(refusal, pytrace=False)  # outside the handler: one line, no chained traceback


def serve(factory: Callable[..., E], options: dict[str, Any]) -> Iterator[E]:
    """The body of a `<name>_server` fixture (session): `factory(**options)` serving until the session
    ends; each emulator's plugin module defines the fixture (typed) and yields from this."""
    try:
        mock = factory(**options)
    except UserFileError as exc:  # a file named by an option or an options fixture
        refusal = str(exc)
    else:
        with mock:
            yield mock
        return
    pytest.fail(refusal, pytrace=False)


def clock_mode(text: str) -> str:
    """A clock option's value: virtual or real (ValueError otherwise)."""
    if text not in ("virtual", "real"):
        raise ValueError(text)
    return text


# ----------------------------------------------------------------------------- failure reports


def describe(title: str, seed: int | None, now: str, clock: str, journal: Journal, lines: int) -> str:
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


M = TypeVar("M", bound=MockServer)


class InProcessRoute(Generic[M]):
    """Every request `requests` sends to `urls` goes into an emulator's WSGI app, through `responses`.

    Attributes not its own are the emulator's (`route.assert_called(...)`, `route.journal`); `route.mock`
    is the emulator itself, typed (`InProcessRoute[StreamsterMock]`).
    """

    def __init__(self, mock: M, app: Callable[..., Iterable[bytes]], urls: tuple[str, ...], rsps: RequestsMock) -> None:
        from .wsgi_responses import FunctionResponse, base_pattern

        self.mock, self.urls, self.responses = mock, urls, rsps
        self.url = urls[0]

        def answer(request: requests.PreparedRequest) -> Any:  # what `responses` takes: an answer or an error
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
def broker_responses() -> Iterator[RequestsMock]:
    """One `responses.RequestsMock` per test that the in-process routes share (a request to a URL
    no route serves raises ConnectionError, as `responses` does, unless passed through)."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def arguments_text(arguments: Mapping[str, Any]) -> str:
    """`seed=0, clock='virtual', ...` for a report."""
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items() if v is not None)
