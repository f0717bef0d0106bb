"""The docs site (docs/) and the README, held to the code.

- Every ```python block runs (Sybil parses the Markdown; the blocks of one page share a namespace,
  in order). A block that defines `test_*` functions has them called with the plugin's fixtures.
  A block that includes a file (`--8<-- "tests/examples/..."`) shows a file of the suite, which runs
  with the suite (tests/examples/). A block not meant to run says so just before it: `<!-- skip: next "why" -->`.
  The API's usual URLs (http://127.0.0.1:8018/, http://127.0.0.1:8080/) are served in process, so
  examples keep the addresses a reader types.
- Every shell line that starts an emulator (`serve`, `replay`, `broker-mocks serve`, `make run`) is run
  on free ports and each emulator it prints must answer; the other lines of its block (curl, PHP,
  python -c) then run against it. Every line of the three commands parses with their own argument parser.
- The generators behind the reference pages (docgen/) document every command, option and route.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import SkipTest

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import ClearNamespaceParser, SkipParser
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer

from docgen import check_site, cli, diagrams, routes, schemas

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$')
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
PYTHON = ("python", "py")
SHELL = ("sh", "shell", "bash", "console")
# Addresses the docs use for the served emulators, and the commands that serve them.
STREAMSTER_ADDRESSES = ("127.0.0.1:8018", "localhost:8018")
INSTAFOREX_ADDRESSES = ("127.0.0.1:8080", "localhost:8080")
COMMANDS = {
    "mock-streamster": "mock_streamster.cli",
    "mock-instaforex": "mock_instaforex.cli",
    "broker-mocks": "broker_mocks.cli",
}
STARTS = ("serve", "replay")
LAUNCHER_COMMANDS = ("serve", "schema", "-h", "--help", "--version")  # broker-mocks with anything else serves
PORT_OPTIONS = ("--port", "--streamster-port", "--instaforex-port")
INTEROP_REQUIRED = os.environ.get("REQUIRE_INTEROP") == "1"
MONO = ("wsdl", "mcs", "mono")  # the .NET tool chain of docs/how-to/php-dotnet.md (Debian: mono-devel)


# ----------------------------------------------------------------------------- the Markdown


def fences(path: Path) -> Iterator[tuple[str, str, int]]:
    """(language, body, line) of every fenced block of a page."""
    text = path.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        info = match.group("info").strip()
        language = info.split()[0] if info else ""
        yield language, match.group("body"), text.count("\n", 0, match.start()) + 1


class PythonBlocks:
    """Sybil parser: every fenced block whose language is python (a title or other attributes allowed)."""

    def __init__(self) -> None:
        self.lexers = [
            FencedCodeBlockLexer(language=r".+", mapping={"language": "arguments", "source": "source"}),
            DirectiveInHTMLCommentLexer(directive=r"invisible-code-block", arguments=".+"),
        ]
        self.python = PythonEvaluator()

    def __call__(self, document: Document) -> Iterator[Region]:
        for lexer in self.lexers:
            for region in lexer(document):
                arguments = str(region.lexemes["arguments"]).split()
                if arguments and arguments[0] in PYTHON:
                    region.parsed = region.lexemes["source"]
                    region.evaluator = self.evaluate
                    yield region

    def evaluate(self, example: Example) -> None:
        source = str(example.parsed)
        lines = [line for line in source.splitlines() if line.strip()]
        if lines and all(SNIPPET.match(line) for line in lines):
            for line in lines:  # shown from a test file: that file runs with the suite
                included = ROOT / SNIPPET.match(line).group("path").split(":")[0]  # type: ignore[union-attr]
                assert included.is_file(), f"{example.path}:{example.line}: {included} does not exist"
                assert ROOT / "tests" / "examples" in included.parents, (
                    f"{example.path}:{example.line}: an included example must be a file of tests/examples/"
                )
            return
        before = set(example.namespace)
        self.python(example)
        for name in [n for n in example.namespace if n not in before and n.startswith("test_")]:
            call_test(example, example.namespace[name])


def call_test(example: Example, function: Any) -> None:
    """Run a test function a block defined, with the plugin's fixtures, on freshly reset emulators."""
    import inspect

    if getattr(function, "pytestmark", None):
        raise AssertionError(
            f"{example.path}:{example.line}: {function.__name__} has markers; show it from a test file "
            '(--8<-- "tests/examples/...") so pytest applies them'
        )
    request: pytest.FixtureRequest = example.namespace["request"]
    request.getfixturevalue("streamster_mock").reset()
    request.getfixturevalue("instaforex_mock").reset()
    arguments = {name: request.getfixturevalue(name) for name in inspect.signature(function).parameters}
    function(**arguments)


SYBIL = Sybil(parsers=[PythonBlocks(), SkipParser(), ClearNamespaceParser()], patterns=["*.md"])


def python_pages() -> list[Path]:
    return [p for p in PAGES if any(lang in PYTHON for lang, _, _ in fences(p))]


@pytest.fixture
def served_as_usual(
    streamster_responses: Any, instaforex_responses: Any, broker_responses: Any, instaforex_mock: Any
) -> Iterator[dict[str, Any]]:
    """The usual addresses answered in process: Streamster's on 127.0.0.1:8018 (the plugin's route),
    InstaForex's real URLs and 127.0.0.1:8080; any other loopback port (an emulator an example starts
    itself) reaches the network."""
    from mock_common.pytest_plugin import InProcessRoute
    from mock_instaforex.pytest_plugin import in_process_app

    local = tuple(f"http://{address}/" for address in INSTAFOREX_ADDRESSES)
    InProcessRoute(instaforex_mock, in_process_app(instaforex_mock), local, broker_responses)
    usual = "|".join(re.escape(a) for a in (*STREAMSTER_ADDRESSES, *INSTAFOREX_ADDRESSES))
    broker_responses.add_passthru(re.compile(rf"http://(?!(?:{usual})/)(127\.0\.0\.1|localhost|\[::1\]):\d+/"))
    yield {"streamster_responses": streamster_responses, "instaforex_responses": instaforex_responses}


@pytest.fixture
def like_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder that looks like a checkout (fixtures/ there) where files can be written."""
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    for example in (ROOT / "tests" / "examples" / "dotnet").iterdir():  # the files the .NET commands name
        shutil.copy(example, tmp_path / example.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", python_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_python_examples_of_a_page_run(
    page: Path, request: pytest.FixtureRequest, served_as_usual: dict[str, Any], like_a_checkout: Path
) -> None:
    document = SYBIL.parse(page)
    document.namespace.update(served_as_usual, request=request)
    ran = 0
    for example in document.examples():
        try:
            example.evaluate()
        except SkipTest:
            continue
        ran += 1
    assert ran, f"{page}: no example ran"


def test_every_python_block_is_an_example() -> None:
    """No ```python block escapes the examples (a title or attributes after the language included)."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        fenced = [e for e in SYBIL.parse(page).examples() if lines[e.line - 1].lstrip().startswith("```")]
        python = [e for e in fenced if getattr(e.region.evaluator, "__self__", None) is SYBIL.parsers[0]]
        assert len(python) == sum(1 for lang, _, _ in fences(page) if lang in PYTHON), page


# ----------------------------------------------------------------------------- shell blocks


def commands(body: str) -> Iterator[str]:
    """The logical command lines of a shell block: continuations joined, comments and prompts dropped."""
    pending = ""
    for raw in body.splitlines():
        line = raw[2:] if raw.startswith("$ ") else raw
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1] + " "
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        yield pending.strip()
        pending = ""
    if pending.strip():
        yield pending.strip()


def shell_blocks() -> list[tuple[str, str]]:
    return [
        (f"{page.relative_to(ROOT)}:{line}", body)
        for page in PAGES
        for lang, body, line in fences(page)
        if lang in SHELL
    ]


SHELL_OPERATORS = (">", ">>", "|", "&&", "||", ";", "&")


def words(command: str) -> list[str]:
    """The command's words up to where the shell takes over (a redirection, a pipe, `&`)."""
    argv = shlex.split(command, comments=True)
    for i, word in enumerate(argv):
        if word in SHELL_OPERATORS:
            return argv[:i]
    return argv


def launcher_argv(argv: list[str]) -> list[str]:
    """`broker-mocks` arguments as its main() reads them: with no command, `serve`."""
    return argv if argv[:1] and argv[0] in LAUNCHER_COMMANDS else ["serve", *argv]


def starts_an_emulator(command: str) -> bool:
    argv = words(command)
    if argv[:2] == ["make", "run"]:
        return True
    if argv[:1] == ["broker-mocks"]:
        return launcher_argv(argv[1:])[0] == "serve"
    return len(argv) > 1 and argv[0] in COMMANDS and argv[1] in STARTS


def emulators_started(command: str) -> int:
    """How many emulators the command serves: both for the launcher and `make run`, else one."""
    argv = words(command)
    return 2 if argv[:2] == ["make", "run"] or argv[:1] == ["broker-mocks"] else 1


def emulator_commands() -> list[str]:
    return sorted({c for _, body in shell_blocks() for c in commands(body) if words(c)[:1] and words(c)[0] in COMMANDS})


@pytest.mark.parametrize("command", emulator_commands(), ids=lambda c: " ".join(words(c)))
def test_every_documented_command_line_parses(command: str) -> None:
    argv = words(command)
    parser = importlib.import_module(COMMANDS[argv[0]]).build_parser()
    try:
        parser.parse_args(launcher_argv(argv[1:]) if argv[0] == "broker-mocks" else argv[1:])
    except SystemExit as exc:
        raise AssertionError(f"`{command}` does not parse (exit {exc.code})") from None


def _free_port_command(command: str) -> list[str]:
    """The command with every port the docs name replaced by 0 (a free one), or given 0."""
    argv = words(command)
    if argv[:2] == ["make", "run"]:
        venv = Path(sys.prefix)
        return [
            "make", "--no-print-directory", "-C", str(ROOT), "-o", str(venv / ".installed"), *argv[1:],
            f"VENV={venv}", "STREAMSTER_PORT=0", "INSTAFOREX_PORT=0",
        ]  # fmt: skip
    wanted = ("--streamster-port", "--instaforex-port") if argv[0] == "broker-mocks" else ("--port",)
    out, i = [], 0
    while i < len(argv):
        if argv[i] in PORT_OPTIONS:
            out += [argv[i], "0"]
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out + [word for option in wanted if option not in out for word in (option, "0")]


class Served:
    """A documented command serving in the background, with the URLs it printed: one banner ending
    in "Press Ctrl-C to stop.", a heading line per emulator (unindented) and its URLs (indented)."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str]) -> None:
        self.command = command
        self.emulators = emulators_started(command)
        self.make = words(command)[:2] == ["make", "run"]
        self.process = subprocess.Popen(
            _free_port_command(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        self.output: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line == "Press Ctrl-C to stop.\n":
                self.ready.set()
        self.ready.set()

    def ports(self, where: str) -> dict[str, str]:
        """{usual port: the port it serves on} for each emulator it started, after checking each answers."""
        assert self.ready.wait(60), f"{where}: `{self.command}` printed no URL in 60 s"
        text = "".join(self.output)
        banner = text.split("Press Ctrl-C to stop.")[0]
        found = {}
        for section in re.split(r"\n(?=\S)", banner):  # an emulator's heading, then its indented URLs
            urls = re.findall(r"http://\S+", section)
            if not urls:
                continue
            url = next((u for u in urls if u.endswith(".wsdl")), urls[0])
            assert _answers(url) < 500, f"{where}: {url} from `{self.command}` does not answer"
            usual = "8018" if "streamster" in section.split(None, 1)[0].lower() else "8080"
            found[usual] = re.search(r":(\d+)/", url).group(1)  # type: ignore[union-attr]
        assert len(found) == self.emulators, f"{where}: `{self.command}` printed {found}:\n{text}"
        return found

    def stop(self, where: str) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the command and what it started, ours only
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(timeout=20)
        stopped = (0, 2, -signal.SIGTERM) if self.make else (0, -signal.SIGTERM)  # make says 2 when stopped
        assert code in stopped, f"{where}: `{self.command}` ended with {code}:\n{''.join(self.output)}"


def _answers(url: str) -> int:
    """The status a printed URL answers with: an emulator's /_mock/state, a replay server's URL itself."""
    base = url.split("/service.wsdl")[0].rstrip("/")
    target = url if url.endswith(".wsdl") else base + "/_mock/state"
    try:
        with urllib.request.urlopen(target, timeout=10) as r:  # noqa: S310 (a loopback URL the command printed)
            return r.status
    except urllib.error.HTTPError as exc:  # a replay server answers what it does not hold with a 404
        return exc.code


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def _client_command(command: str) -> bool:
    """A line that calls a served emulator on its own: curl, or inline PHP or Python (`-r`, `-c`);
    a line that runs a program of the reader's (`php my_bot.php`) is theirs to run."""
    argv = words(command)
    if not argv or starts_an_emulator(command):
        return False
    inline = argv[0] == "curl" or (argv[0] == "php" and "-r" in argv) or (argv[0] == "python" and "-c" in argv)
    return inline or argv[0] in MONO


def serving_blocks() -> list[tuple[str, str]]:
    return [(where, body) for where, body in shell_blocks() if any(starts_an_emulator(c) for c in commands(body))]


@pytest.mark.parametrize("where,body", serving_blocks(), ids=[w for w, _ in serving_blocks()])
def test_every_shell_block_that_serves_an_emulator_serves_it(where: str, body: str, like_a_checkout: Path) -> None:
    """Run as a reader would: each emulator started stays up (a second start of the same command
    replaces it, as a restart does) while the block's client lines run against it."""
    env = _env()
    running: dict[str, Served] = {}
    ports: dict[str, str] = {}
    try:
        for command in commands(body):
            if starts_an_emulator(command):
                program = words(command)[0]
                if program in running:
                    running.pop(program).stop(where)
                served = running[program] = Served(command, like_a_checkout, env)
                ports.update(served.ports(where))
            elif _client_command(command):
                run_client(where, command, ports, env, like_a_checkout)
    finally:
        for served in running.values():
            served.stop(where)


def run_client(where: str, command: str, ports: dict[str, str], env: dict[str, str], cwd: Path) -> None:
    """A client line of a serving block, run against the emulators it started."""
    program = words(command)[0]
    needs = MONO if program in MONO else (program,)
    if program in ("php", *MONO) and not all(shutil.which(tool) for tool in needs):
        if INTEROP_REQUIRED:
            raise AssertionError(f"{', '.join(needs)} not installed (REQUIRE_INTEROP=1)")
        return
    for usual, port in ports.items():
        for host in ("127.0.0.1", "localhost"):
            command = command.replace(f"{host}:{usual}", f"{host}:{port}")
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{where}: `{command}` failed:\n{done.stdout}\n{done.stderr}"
    if program == "curl":
        assert '"error"' not in done.stdout, f"{where}: `{command}` answered {done.stdout}"


def test_every_make_target_the_docs_name_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    named = {
        argv[1]
        for _, body in shell_blocks()
        for c in commands(body)
        if (argv := words(c))[:1] == ["make"] and len(argv) > 1 and not argv[1].startswith("-")
    }
    assert named, "no make command in the docs"
    assert named <= targets, f"make targets the docs name but the Makefile lacks: {sorted(named - targets)}"


# ----------------------------------------------------------------------------- the README


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    first = next(body for lang, body, _ in fences(ROOT / "README.md") if lang in SHELL)
    assert [words(c)[:2] for c in commands(first)][:2] == [["make", "run"], ["make", "test"]]


def test_the_readme_links_only_into_the_repository() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"
        assert not target.startswith(".."), f"README links outside the repository: {target}"


# ----------------------------------------------------------------------------- the generators


@pytest.mark.parametrize("module", sorted(COMMANDS.values()))
def test_the_cli_reference_names_every_command_and_option(module: str) -> None:
    import argparse

    parser = importlib.import_module(module).build_parser()
    page = cli.parser_markdown(parser)
    for name, _, sub in cli._subcommands(parser):
        assert f"`{parser.prog} {name}`" in page
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings or [action.dest]:
                assert f"`{option}`" in page, f"{parser.prog} {name}: {option} missing"
            if action.help and "%(" not in action.help:
                assert " ".join(action.help.split()).replace("|", "\\|") in page


@pytest.mark.parametrize("module", ["mock_streamster.control", "mock_instaforex.control"])
def test_the_control_reference_names_every_route_and_parameter(module: str) -> None:
    controller = importlib.import_module(module).Controller
    page = routes.routes_markdown(controller)
    for route in controller.routes():
        shown = f"/_mock/{route.path}".replace("<", "{").replace(">", "}")
        assert f"`{route.method} {shown}`" in page
        for param in route.params:
            assert param.name == routes.BODY or f"`{param.name}`" in page
        assert route.doc and routes._what(controller, route) in page


def test_a_route_without_a_docstring_stops_the_build() -> None:
    from mock_common.control import BaseController, route

    class Undocumented(BaseController):
        @route("POST", "nothing")
        def nothing(self) -> None:
            pass

    with pytest.raises(routes.RouteDocError, match="nothing"):
        routes.route_rows(Undocumented)


def test_the_format_reference_lists_every_key_of_a_schema() -> None:
    schema = {
        "description": "A test format.",
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "what it is called"},
            "seed": {"type": "integer", "minimum": 0, "default": 0},
            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
            "history": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [
                        {"type": "string"},
                        {"type": "object", "properties": {"format": {"enum": ["mt4", "mt5"]}}},
                    ]
                },
            },
        },
        "$defs": {"item": {"type": "object", "properties": {"price": {"type": "string", "pattern": "^[0-9.]+$"}}}},
    }
    page = schemas.schema_markdown(schema)
    for key in ("`name`", "`seed`", "`items`", "`items[].price`", "`history`", "`history.<name>.format`"):
        assert key in page, key
    assert "| `name` | string | yes | what it is called |" in page
    assert ">= `0`" in page and "default `0`" in page and "`mt4`" in page
    with pytest.raises(schemas.SchemaDocError, match="points at nothing"):
        schemas.rows({"properties": {"x": {"$ref": "#/$defs/missing"}}})


def test_the_site_check_finds_a_load_from_the_network(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="https://fonts.example/css"><a href="https://x">x</a>'
    )
    (tmp_path / "a.css").write_text("body { background: url('//cdn.example/x.png') }")
    problems = check_site.network_loads(tmp_path)
    assert len(problems) == 2 and "fonts.example" in problems[0] and "cdn.example" in problems[1]
    (tmp_path / "index.html").write_text('<script src="assets/x.js"></script><a href="https://x">x</a>')
    (tmp_path / "a.css").write_text("body { background: url(x.png) }")
    assert check_site.network_loads(tmp_path) == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_a_dot_block_becomes_an_inline_drawing() -> None:
    page = diagrams.replace_dot_fences("before\n\n```dot\ndigraph { wire -> state }\n```\n\nafter\n")
    assert page.startswith("before") and page.rstrip().endswith("after") and "```" not in page
    assert "<svg" in page and ">wire</text>" in page
    with pytest.raises(diagrams.DiagramError, match="refused"):
        diagrams.render_dot("digraph {", "a page")


def test_every_page_of_the_site_is_in_the_navigation() -> None:
    import yaml

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506

    def listed(nav: Any) -> Iterator[str]:
        if isinstance(nav, str):
            yield nav
        elif isinstance(nav, list):
            for item in nav:
                yield from listed(item)
        elif isinstance(nav, dict):
            for value in nav.values():
                yield from listed(value)

    in_nav = set(listed(config["nav"]))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert pages - in_nav == set(), "pages the navigation leaves out"
    assert {p for p in in_nav if p.endswith(".md")} - pages == set(), "navigation entries with no page"


def test_the_benchmark_figures_leave_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"\d+ req/s", text), "benchmark figures belong on docs/explanation/performance.md"


def test_the_pytest_page_lists_every_option_of_the_plugin(pytester: pytest.Pytester) -> None:
    """The options table of docs/how-to/pytest.md against `pytest --help` (the broker-mocks group)."""
    help_text = "\n".join(pytester.runpytest("--help", "-p", "no:cacheprovider").outlines)
    group = help_text.split("broker-mocks:", 1)[1].split("\n\n", 1)[0]
    offered = set(re.findall(r"^\s+(--[a-z-]+)", group, re.M))
    page = (ROOT / "docs" / "how-to" / "pytest.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(--[a-z-]+)", page, re.M))
    assert offered and offered == listed, (
        f"only in pytest --help: {offered - listed}; only on the page: {listed - offered}"
    )


@pytest.mark.parametrize("name", ["scenario", "accounts", "cassette"])
def test_the_format_pages_list_every_top_level_key_of_the_shipped_schemas(name: str) -> None:
    """Runs once the schemas ship (mock_common.schemas, issue 17); skipped before."""
    pytest.importorskip("mock_common.schemas", reason="the file formats' JSON Schemas are not in this checkout yet")
    schema = schemas.load(name)
    page = schemas.schema_markdown(schema)
    for key in schema.get("properties", {}):
        assert f"| `{key}` |" in page, f"{name}: {key}"


# ----------------------------------------------------------------------------- type-checked examples, layout, figures


def test_the_docs_python_blocks_become_modules_on_their_pages_lines(tmp_path: Path) -> None:
    from docgen import examples

    root = tmp_path / "checkout"
    (root / "docs" / "how-to").mkdir(parents=True)
    (root / "README.md").write_text("# r\n\nNo code here.\n")
    page = root / "docs" / "how-to" / "a-page.md"
    page.write_text(
        "# A page\n\n```python\nx: int = 1\n```\n\n"
        '<!-- skip: next "a sketch" -->\n```python\nmy_bot.run()\n```\n\n'
        '```python title="t.py"\n--8<-- "tests/examples/t.py"\n```\n\n'
        "- a list item:\n\n    ```py\n    if x:\n        y = x + 1\n    ```\n"
    )
    written = examples.write(tmp_path / "out", root)
    assert [p.name for p in written] == ["docs_how_to_a_page.py"]
    lines = written[0].read_text().splitlines()
    assert lines[3] == "x: int = 1"  # line 4 of the page
    assert lines[18:20] == ["if x:", "    y = x + 1"]  # dedented to its fence, on lines 19 and 20
    assert "my_bot" not in written[0].read_text() and "--8<--" not in written[0].read_text()
    assert len(lines) <= page.read_text().count("\n") + 1
    assert (tmp_path / "out" / "doc_examples" / "__init__.py").is_file()


def test_every_runnable_python_block_of_the_docs_is_type_checked() -> None:
    """What docgen.examples writes for mypy is what this module runs: the blocks Sybil evaluates, less
    the included files of tests/examples/ (checked as they are)."""
    from docgen import examples

    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        ran = [
            e.line + 1
            for e in SYBIL.parse(page).examples()
            if getattr(e.region.evaluator, "__self__", None) is SYBIL.parsers[0]
            and not all(SNIPPET.match(line) for line in str(e.parsed).splitlines() if line.strip())
            and not _skipped_before(text, e.line)
        ]
        assert [b.line for b in examples.blocks(text)] == ran, page


def _skipped_before(text: str, line: int) -> bool:
    """Whether the last non-blank line before `line` (1-based) is a `skip: next` directive."""
    before = [x for x in text.split("\n")[: line - 1] if x.strip()]
    return bool(before) and bool(re.search(r"<!--\s*skip:\s*next", before[-1]))


def test_the_installed_layout_maps_what_pyproject_maps(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from docgen import layout

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-dir"] == layout.PACKAGE_DIR
    tree = layout.build(tmp_path)
    assert (tree / "broker_mocks" / "client" / "streamster.py").samefile(ROOT / "client" / "streamster.py")
    assert (tree / "broker_mocks" / "conformance" / "run.py").samefile(ROOT / "conformance" / "run.py")
    assert (tree / "broker_mocks" / "cli.py").samefile(ROOT / "broker_mocks" / "cli.py")
    (tree / "broker_mocks" / "stale.py").symlink_to(ROOT / "README.md")
    layout.build(tmp_path)  # rebuilt whole: a stale link does not stay
    assert not (tree / "broker_mocks" / "stale.py").exists()


def test_a_figures_file_is_shown_with_its_header_and_a_missing_one_as_to_be_measured(tmp_path: Path) -> None:
    from docgen import bench

    missing = bench.figures_markdown(tmp_path / "plugin.txt")
    assert "To be measured" in missing and "make bench-figures BENCH=plugin" in missing
    path = tmp_path / "persist.txt"
    path.write_text(
        "# command: python -m bench.persist\n# date: 2026-12-02\n# machine: x86_64, 2 cores\n"
        "# scale: BENCH_SCALE=1\n# load average: 0.3 before, 0.9 after\n# note: a quiet run\n"
        "SendOrder served    in memory  (median of 3 rounds)      1416 req/s\n"
    )
    shown = bench.figures_markdown(path)
    assert shown.startswith("`python -m bench.persist`, 2026-12-02, x86_64, 2 cores; load average 0.3 before")
    assert "(a quiet run):" in shown and "```text\nSendOrder served" in shown
    path.write_text("# when: today\nfigures\n")
    with pytest.raises(ValueError, match="persist.txt:1: a header line"):
        bench.figures_markdown(path)
    path.write_text("# date: 2026-12-02\nfigures\n")
    with pytest.raises(ValueError, match="no command, machine, scale, load average"):
        bench.figures_markdown(path)


def test_the_shipped_figures_files_render() -> None:
    from bench import record
    from docgen import bench

    files = sorted((ROOT / "bench" / "figures").glob("*.txt"))
    assert files
    for path in files:
        assert path.stem in record.SCRIPTS, path
        assert "```text" in bench.figures_markdown(path)


def test_the_figures_recorder_refuses_an_unknown_benchmark_and_heads_its_files() -> None:
    from bench import record

    with pytest.raises(ValueError, match="'speed' is not one of throughput"):
        record.record("speed")
    head = record.header("persist", "2026-12-02", "0.5", "0.7")
    assert [line.split(":")[0] for line in head] == ["# command", "# date", "# machine", "# scale", "# load average"]
    assert head[-1] == "# load average: 0.5 before, 0.7 after"


@pytest.mark.parametrize("module,marker", [("mock_streamster.pytest_plugin", "streamster"),
                                           ("mock_instaforex.pytest_plugin", "instaforex")])  # fmt: skip
def test_the_fixtures_reference_lists_every_marker_argument(module: str, marker: str) -> None:
    arguments = importlib.import_module(module).MARKER_ARGUMENTS
    page = (ROOT / "docs" / "reference" / "api" / "pytest.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith(f"| `@pytest.mark.{marker}(...)` |"))
    listed = re.findall(r"`(\w+)`", row.split("|")[2])
    assert sorted(listed) == sorted(arguments), f"{marker}: the page lists {listed}, the plugin takes {list(arguments)}"


def test_the_recorder_keeps_a_scripts_own_figures_under_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import record
    from docgen import bench

    monkeypatch.setenv("BENCH_SCALE", "0.01")
    path = record.record("backtest", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# command: python -m bench.backtest\n# date: ") and "# scale: BENCH_SCALE=0.01" in text
    assert "GetBars worst period" in text and "polling bot in process" in text
    assert "Initializing application" not in text and "serving http" not in text  # the libraries' INFO lines
    assert "BENCH_SCALE=0.01, " in bench.figures_markdown(path)
