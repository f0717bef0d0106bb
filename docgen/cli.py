"""Markdown reference of a command line, read from its `argparse` parser."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from .markdown import cell, code


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in the order they were declared."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The action's help with argparse's %(default)s-style fields filled in."""
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return parser._get_formatter()._expand_help(action)


def _argument(action: argparse.Action) -> str:
    """What the option takes: its choices, its metavar, or nothing for a flag."""
    if action.nargs == 0:
        return ""
    if action.choices is not None:
        return " or ".join(code(str(c)) for c in action.choices)
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    text = str(metavar) if not isinstance(metavar, tuple) else " ".join(metavar)
    if action.type is int:
        text += " (integer)"
    elif action.type is float:
        text += " (number)"
    return text


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, False) or action.default == []:
        return ""
    return code(str(action.default))


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        names = ", ".join(code(s) for s in action.option_strings) or code(action.dest)
        repeat = ""
        if isinstance(action, (argparse._AppendAction, argparse._CountAction)) and "repeatable" not in (
            action.help or ""
        ):
            repeat = " (repeatable)"
        required = " **required**" if action.required and action.option_strings else ""
        rows.append(
            f"| {names} | {cell(_argument(action))} | {_default(action)} | "
            f"{cell(_help(parser, action))}{repeat}{required} |"
        )
    if not rows:
        return ["No options."]
    return ["| option | takes | default | what it does |", "|---|---|---|---|", *rows]


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = parser.format_usage().strip()
    return usage.removeprefix("usage: ")


def parser_markdown(parser: argparse.ArgumentParser, level: int = 2) -> str:
    """The reference of `parser`: its usage, options and, for each subcommand, the same (recursively)."""
    heading = "#" * level
    out = []
    if parser.description:
        text = parser.description.strip()
        out += [text if text.endswith((".", ":", "!", "?")) else text + ".", ""]
    out += ["```text", _usage(parser), "```", ""]
    subs = list(_subcommands(parser))
    if subs:
        out += ["| command | what it does |", "|---|---|"]
        out += [
            f"| [{code(parser.prog + ' ' + name)}](#{_anchor(parser.prog, name)}) | {cell(h)} |" for name, h, _ in subs
        ]
        out += [""]
    own = [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    if own or not subs:
        out += _options_table(parser) + [""]
    for name, help_text, sub in subs:
        out += [f"{heading} `{parser.prog} {name}` {{ #{_anchor(parser.prog, name)} }}", ""]
        if help_text and not sub.description:
            out += [help_text[0].upper() + help_text[1:] + ".", ""]
        out += [parser_markdown(sub, level + 1), ""]
    return "\n".join(out).rstrip() + "\n"


def _anchor(prog: str, name: str) -> str:
    return f"{prog.split()[-1]}-{name}".replace(" ", "-").lower()
