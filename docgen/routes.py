"""Markdown reference of an emulator's `/_mock/` control routes, read from their declarations.

Each route is declared where its operation is written (`@route(method, path, Param(...))` in
`mock_common.control` and the emulators' `control.py`): the method, the path, each parameter
(where it comes from, its type, whether it is required) and the operation's one-line docstring.
"""

from __future__ import annotations

import inspect
from typing import Any

from .markdown import cell, code

PREFIX = "/_mock/"
BODY = "*body*"  # mock_common.control.BODY: the whole JSON body is the argument


class RouteDocError(ValueError):
    """A route that cannot be documented (no docstring on its operation)."""


def _kind(param: Any) -> str:
    """The parameter's type in words: the first line of its converter's docstring ('' for `anything`,
    whose value the operation itself checks)."""
    if getattr(param.kind, "__name__", "") == "anything":
        return ""
    doc = (getattr(param.kind, "__doc__", None) or "").strip()
    if not doc:
        return code(getattr(param.kind, "__name__", "value"))
    return doc.splitlines()[0].rstrip(".")


def _param(param: Any) -> str:
    if param.name == BODY:
        return "the whole JSON body"
    where = {"body": "", "query": "query ", "path": "path "}[param.source]
    kind = _kind(param)
    text = f"{where}{code(param.name)}" + (f": {kind}" if kind else "")
    if not param.required:
        text += " (optional)"
    if param.aliases:
        text += "; also accepted as " + ", ".join(code(a) for a in param.aliases)
    return text


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _what(controller: type, route: Any) -> str:
    """What the route does: the first paragraph of its operation's docstring."""
    doc = inspect.getdoc(getattr(controller, route.action, None)) or ""
    return " ".join(doc.split("\n\n")[0].split()) or route.doc


def route_rows(controller: type) -> list[tuple[str, str, list[str], str]]:
    """(method, path, parameter descriptions, what it does) for every declared route, by path and method."""
    rows = []
    ordered = sorted(controller.routes(), key=lambda r: (r.path, METHOD_ORDER.index(r.method)))
    for route in ordered:
        if not route.doc:
            raise RouteDocError(f"{controller.__module__}.{controller.__name__}.{route.action}: no docstring to say "
                                f"what {route.method} {PREFIX}{route.path} does")  # fmt: skip
        rows.append((route.method, PREFIX + route.path, [_param(p) for p in route.params], _what(controller, route)))
    return rows


def routes_markdown(controller: type) -> str:
    """A table of the controller's routes: method and path, parameters, what it does."""
    out = ["| route | parameters | what it does |", "|---|---|---|"]
    for method, path, params, doc in route_rows(controller):
        shown = path.replace("<", "{").replace(">", "}")
        out.append(f"| {code(method + ' ' + shown)} | {cell('<br>'.join(params)) or '—'} | {cell(doc)} |")
    return "\n".join(out) + "\n"
