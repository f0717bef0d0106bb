"""One control plane for both emulators (mock_common.control): the same routes and names, declared once."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_common.control import BaseController, route_table
from mock_instaforex import InstaForexMock
from mock_instaforex.control import Controller as InstaForexController
from mock_streamster import StreamsterMock
from mock_streamster.control import Controller as StreamsterController

ROOT = Path(__file__).resolve().parents[1]
JSON = {"Content-Type": "application/json"}


def _base(mock: Any) -> str:
    return mock.url.rstrip("/") + "/_mock/"


@pytest.fixture(params=["streamster", "instaforex"])
def emulator(request: pytest.FixtureRequest, streamster_mock: StreamsterMock, instaforex_mock: InstaForexMock) -> Any:
    return streamster_mock if request.param == "streamster" else instaforex_mock


def test_both_controllers_serve_the_common_routes_declared_once() -> None:
    common = {(r.method, r.path): r.action for r in BaseController.routes()}
    assert {("POST", "reset"), ("GET", "state"), ("POST", "advance"), ("POST", "faults"), ("GET", "journal"),
            ("GET", "snapshot"), ("PUT", "snapshot")} <= set(common)  # fmt: skip
    for controller in (StreamsterController, InstaForexController):
        mine = {(r.method, r.path): r.action for r in controller.routes()}
        assert {k: mine[k] for k in common} == common, controller
    assert ("POST", "price") in {(r.method, r.path) for r in StreamsterController.routes()}
    assert ("PATCH", "account/<login>") in {(r.method, r.path) for r in InstaForexController.routes()}


@pytest.mark.parametrize("controller", [StreamsterController, InstaForexController], ids=["streamster", "instaforex"])
def test_the_route_table_gives_a_reference_every_route_with_its_typed_parameters(controller: Any) -> None:
    table = route_table(controller)
    json.dumps(table)  # JSON-ready, for the reference pages
    assert [(r["method"], r["path"]) for r in table] == [(r.method, f"/_mock/{r.path}".rstrip("/"))
                                                         for r in controller.routes()]  # fmt: skip
    assert all(r["doc"] and r["doc"].endswith(".") and "\n" not in r["doc"] for r in table), table  # whole summaries
    routes = {(r["method"], r["path"]): r for r in table}
    faults = {p["name"]: p for p in routes[("POST", "/_mock/faults")]["params"]}
    assert faults["operation"] == {"name": "operation", "source": "body", "type": "string", "required": True,
                                   "accepts": "A non-empty string.", "aliases": ["route"]}  # fmt: skip
    assert faults["seconds"]["required"] is False
    assert routes[("POST", "/_mock/faults")]["doc"].endswith("params: status, code, message, seconds.")
    limit = {p["name"]: p for p in routes[("GET", "/_mock/journal")]["params"]}["limit"]
    assert (limit["source"], limit["type"], limit["required"]) == ("query", "integer", False)
    assert routes[("PUT", "/_mock/snapshot")]["params"][0]["name"] == "(body)"
    assert ("GET", "/_mock") in routes and ("GET", "/_mock/state") in routes
    if controller is InstaForexController:
        (login, changes) = routes[("PATCH", "/_mock/account/<login>")]["params"]
        assert (login["source"], login["type"], changes["name"]) == ("path", "login", "(body)")
        assert login["accepts"].startswith("A login:")
    else:
        assert {p["name"]: p["type"] for p in routes[("POST", "/_mock/charts")]["params"]}["open"] == "boolean"


def test_faults_and_journal_take_the_same_parameter_names_on_both(emulator: Any) -> None:
    name = "GetDesks" if isinstance(emulator, StreamsterMock) else "RequestOpenTrades"
    r = requests.post(_base(emulator) + "faults", json={"operation": name.lower(), "kind": "delay", "seconds": 0},
                      headers=JSON, timeout=10)  # fmt: skip
    assert r.status_code == 200 and r.json()["target"] == name, r.text
    assert [f["target"] for f in requests.get(_base(emulator) + "faults", timeout=10).json()] == [name]
    r = requests.post(_base(emulator) + "faults", json={"operation": "Nope"}, headers=JSON, timeout=10)
    assert r.status_code == 400 and "Nope" in r.json()["error"]
    assert requests.get(_base(emulator) + "journal?operation=x&limit=-1", timeout=10).status_code == 400
    r = requests.get(_base(emulator) + "nothing", timeout=10)
    assert r.status_code == 404 and "GET /_mock/state" in r.json()["routes"]
    r = requests.get(_base(emulator) + "reset", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    state = requests.get(_base(emulator) + "state", timeout=10).json()
    assert name in state["operations"] and state["journal"]["size"] == 0


def test_the_former_instaforex_name_route_is_still_accepted(instaforex_mock: InstaForexMock) -> None:
    r = requests.post(_base(instaforex_mock) + "faults", json={"route": "RequestOpenTrades"}, headers=JSON, timeout=10)
    assert r.status_code == 200 and r.json()["target"] == "RequestOpenTrades"
    assert requests.get(_base(instaforex_mock) + "journal?route=RequestOpenTrades", timeout=10).json() == []


def test_an_instaforex_snapshot_restores_accounts_tokens_and_clock(instaforex_mock: InstaForexMock) -> None:
    snap = requests.get(_base(instaforex_mock) + "snapshot", timeout=10).json()
    before = instaforex_mock.store.to_data()
    now = instaforex_mock.controller.now()
    instaforex_mock.add_account(login=20000080, level="open", balance="5.00")
    instaforex_mock.advance(600)
    r = requests.put(_base(instaforex_mock) + "snapshot", json=snap, headers=JSON, timeout=10)
    assert r.status_code == 200, r.text
    assert instaforex_mock.store.to_data() == before and instaforex_mock.controller.now() == now
    assert instaforex_mock.snapshot() == snap
    instaforex_mock.add_account(login=20000081, level="open")
    changed = instaforex_mock.store.to_data()
    damaged = {**snap, "state": {**snap["state"], "tokens": "lots"}}
    for bad in (damaged, {"version": 2}, {}):
        r = requests.put(_base(instaforex_mock) + "snapshot", json=bad, headers=JSON, timeout=10)
        assert r.status_code == 400 and "snapshot" in r.json()["error"], r.text
    assert instaforex_mock.store.to_data() == changed  # nothing changed
    instaforex_mock.reset()  # reset still goes back to the constructor's accounts
    assert 20000080 not in instaforex_mock.store.accounts and 20000081 not in instaforex_mock.store.accounts


PACKAGES = ("mock_common", "mock_streamster", "mock_instaforex", "client", "conformance", "broker_mocks")
# The recording engineer's (worktree `recording`) removes this one: drop it here once merged.
KNOWN_CIRCLES = {frozenset({"mock_common.recording.profile", "mock_common.recording.scrub"})}


def _modules() -> dict[str, Path]:
    """Every module of the tree by its dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            parts = file.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the tree it imports anywhere: in functions and for type checking too."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, file in modules.items():
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:  # `from pkg import module` imports the module
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_module_of_the_tree_imports_itself_through_others() -> None:
    graph = _import_graph()
    assert {"mock_common.recording.cassette", "mock_streamster.platform", "client.streamster"} <= set(graph)

    def reaches(start: str, node: str, seen: set[str]) -> bool:
        for nxt in graph.get(node, ()):
            if nxt == start or (nxt not in seen and (seen.add(nxt) or reaches(start, nxt, seen))):
                return True
        return False

    circles = {m for m in graph if reaches(m, m, set())}
    known = set().union(*KNOWN_CIRCLES) if circles & set().union(*KNOWN_CIRCLES) else set()
    assert circles - known == set(), f"import circle through {sorted(circles - known)}"


def test_no_module_reads_a_private_attribute_of_another_objects_of_ours() -> None:
    """`thing._field` outside `thing`'s own class: only the owner reads its private state (through
    `self`/`cls`); the others use its public description."""
    modules = _modules()
    trees = {name: ast.parse(file.read_text(encoding="utf-8")) for name, file in modules.items()}
    ours: set[str] = set()  # private names the tree defines: attributes set on self, methods
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr.startswith("_"):
                ours.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_"):
                ours.add(node.name)
    ours = {n for n in ours if not n.startswith("__")}
    reads = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ours
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                reads.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert reads == [], reads


def test_both_emulators_have_the_same_files_for_the_same_roles() -> None:
    roles = {"contract", "control", "wire", "server", "cli", "pytest_plugin", "dashboard", "persist", "recording",
             "errors"}  # fmt: skip
    for package in ("mock_streamster", "mock_instaforex"):
        assert roles <= {f.stem for f in (ROOT / package).glob("*.py")}, package
    assert not (ROOT / "mock_instaforex" / "app.py").exists()
