"""Find the ``exportctl`` command lines in CI recipes and check them against the CLI.

A recipe's shell text is split into simple commands with ``shlex`` (its
punctuation mode separates ``;``, ``&&``, ``|``, ``>``, ``(``...), so an
``exportctl`` call is found wherever a command starts: a line, after a pipe,
inside ``$(...)``. Its words end at the first separator or redirection.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import click

from reconciler.cli.main import cli

__all__ = ["command_lines", "problems_with"]

# Words after which a new simple command starts, besides separators.
_KEYWORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MENTIONS = re.compile(r"(^|[\s;&|(`])exportctl(\s|$)")


def command_lines(shell: str) -> Iterator[list[str]]:
    """The arguments of every ``exportctl`` call in a shell script (without ``exportctl``)."""
    for line in shell.replace("\\\n", " ").splitlines():
        if _MENTIONS.search(line):
            yield from _calls(_words(line))


def _words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _is_punctuation(word: str) -> bool:
    return bool(word) and all(ch in "();<>|&" for ch in word)


def _calls(words: list[str]) -> Iterator[list[str]]:
    at_start = True
    index = 0
    while index < len(words):
        word = words[index]
        if at_start and word == "exportctl":
            args = _until_separator(words[index + 1 :])
            yield args
            index += len(args) + 1
            at_start = False
            continue
        at_start = _is_punctuation(word) or (
            at_start and (word in _KEYWORDS or bool(_ASSIGNMENT.match(word)))
        )
        index += 1


def _until_separator(words: list[str]) -> list[str]:
    args: list[str] = []
    for word in words:
        if _is_punctuation(word):
            if word[0] in "<>" and args and args[-1].isdigit():
                args.pop()  # the "2" of "2>file"
            break
        args.append(word)
    return args


def problems_with(args: list[str]) -> list[str]:
    """What is wrong with ``exportctl ARGS``: unknown commands, options or choices."""
    command, rest, path = _resolve(args)
    if command is None:
        return [f"unknown command: exportctl {' '.join(path)}"]
    options = {name: p for p in command.params for name in _names(p)}
    problems: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if not word.startswith("-") or word == "-":
            continue
        name, has_value, value = word.partition("=")
        param = options.get(name)
        if param is None:
            problems.append(f"exportctl {' '.join(path)}: no option {name}")
            continue
        if _takes_value(param, rest[index:]) and not has_value:
            value = rest[index] if index < len(rest) else ""
            index += 1
        if isinstance(param.type, click.Choice) and value not in param.type.choices:
            choices = ", ".join(map(str, param.type.choices))
            problems.append(f"exportctl {' '.join(path)}: {name} {value!r} is not one of {choices}")
    return problems


def _resolve(args: list[str]) -> tuple[click.Command | None, list[str], list[str]]:
    """The (sub)command the words name, the words left, and the command path."""
    command: click.Command = cli
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        path.append(name)
        with click.Context(command) as ctx:
            found = command.get_command(ctx, name)
        if found is None:
            return None, rest, path
        command = found
    return command, rest, path


def _names(param: click.Parameter) -> list[str]:
    if not isinstance(param, click.Option):
        return []
    return [*param.opts, *param.secondary_opts]


def _takes_value(param: click.Parameter, following: list[str]) -> bool:
    if not isinstance(param, click.Option) or param.is_flag or param.count:
        return False
    if param._flag_needs_value:  # an optional value, like --sandbox [DB]
        return bool(following) and not following[0].startswith("-")
    return True
