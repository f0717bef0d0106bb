"""Markdown reference of a file format, read from its JSON Schema (`mock_common.schemas.load(name)`).

One table row per key, by its path (`instruments[].price`, `history.<instrument>.format`): its
type, whether it is required, its constraints and its description. `$ref`s into `$defs` or
`definitions` are followed (once per path, so a recursive schema ends).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from .markdown import cell, code

CONSTRAINTS = (
    ("minimum", ">= {}"), ("exclusiveMinimum", "> {}"), ("maximum", "<= {}"), ("exclusiveMaximum", "< {}"),
    ("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"), ("maxItems", "at most {} items"), ("pattern", "matches {}"),
    ("format", "format {}"), ("multipleOf", "a multiple of {}"),
)  # fmt: skip


class SchemaDocError(ValueError):
    """A schema the generator cannot read (a $ref it cannot resolve)."""


def load(name: str) -> dict[str, Any]:
    """The shipped JSON Schema `name` (scenario, accounts, cassette) through `mock_common.schemas.load`."""
    schemas = importlib.import_module("mock_common.schemas")
    return schemas.load(name)


def _resolve(root: dict[str, Any], node: dict[str, Any], seen: frozenset[str]) -> tuple[dict[str, Any], frozenset[str]]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node, seen
    if not ref.startswith("#/"):
        raise SchemaDocError(f"$ref {ref!r}: only references inside the schema (#/...) are followed")
    if ref in seen:
        return {"description": node.get("description", f"(recursive: {ref})")}, seen
    target: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            raise SchemaDocError(f"$ref {ref!r} points at nothing")
        target = target[part]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return _resolve(root, merged, seen | {ref})


def _type(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"constant {code(json.dumps(node['const']))}"
    if "enum" in node:
        return "one of " + ", ".join(code(json.dumps(v) if not isinstance(v, str) else v) for v in node["enum"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        items = node.get("items")
        if isinstance(items, dict) and items.get("type") and items.get("type") != "object":
            return f"list of {_type(items)}"
        return "list"
    if kind == "object" and "properties" not in node and isinstance(node.get("additionalProperties"), dict):
        return "mapping"
    if kind:
        return str(kind)
    for key in ("oneOf", "anyOf"):
        if key in node:
            return " or ".join(_type(n) for n in node[key] if isinstance(n, dict)) or "any"
    return "any"


def _details(node: dict[str, Any]) -> str:
    parts = []
    if node.get("description"):
        parts.append(str(node["description"]).strip())
    parts += [template.format(code(node[key])) for key, template in CONSTRAINTS if key in node]
    if "default" in node:
        parts.append(f"default {code(json.dumps(node['default']))}")
    return "; ".join(parts)


def rows(root: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """(key path, type, required, description and constraints) for every key the schema declares."""
    out: list[tuple[str, str, bool, str]] = []

    def walk(node: dict[str, Any], path: str, required: bool, seen: frozenset[str]) -> None:
        node, seen = _resolve(root, node, seen)
        if path:
            out.append((path, _type(node), required, _details(node)))
        for variant_key in ("oneOf", "anyOf", "allOf"):
            for variant in node.get(variant_key, ()):
                if isinstance(variant, dict):
                    resolved, _ = _resolve(root, variant, seen)
                    if resolved.get("type") in ("object", "array") or "properties" in resolved:
                        walk_children(resolved, path, seen)
        walk_children(node, path, seen)

    def walk_children(node: dict[str, Any], path: str, seen: frozenset[str]) -> None:
        needed = set(node.get("required", ()))
        for name, child in (node.get("properties") or {}).items():
            if isinstance(child, dict):
                walk(child, f"{path}.{name}" if path else name, name in needed, seen)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            walk(extra, f"{path}.<{_key_name(node)}>" if path else f"<{_key_name(node)}>", False, seen)
        items = node.get("items")
        if isinstance(items, dict):
            resolved, _ = _resolve(root, items, seen)
            if "properties" in resolved or resolved.get("type") in ("object", "array") or "oneOf" in resolved:
                walk_children_of_item(resolved, path, seen)

    def walk_children_of_item(item: dict[str, Any], path: str, seen: frozenset[str]) -> None:
        walk_children(item, f"{path}[]", seen)
        for variant_key in ("oneOf", "anyOf"):
            for variant in item.get(variant_key, ()):
                if isinstance(variant, dict):
                    walk_children(_resolve(root, variant, seen)[0], f"{path}[]", seen)

    walk(root, "", True, frozenset())
    seen_paths: set[str] = set()
    unique = []
    for row in out:  # a key reached through two variants is listed once
        if row[0] not in seen_paths:
            seen_paths.add(row[0])
            unique.append(row)
    return unique


def _key_name(node: dict[str, Any]) -> str:
    names = node.get("propertyNames")
    if isinstance(names, dict) and names.get("title"):
        return str(names["title"])
    return str(node.get("x-key-name", "name"))


def schema_markdown(schema: dict[str, Any]) -> str:
    """The format's keys as a table, after the schema's own title and description."""
    out = []
    if schema.get("description"):
        out += [str(schema["description"]).strip(), ""]
    out += ["| key | type | required | what it is |", "|---|---|---|---|"]
    for path, kind, required, details in rows(schema):
        out.append(f"| {code(path)} | {cell(kind)} | {'yes' if required else ''} | {cell(details)} |")
    return "\n".join(out) + "\n"
