"""``exportctl --timeout SECONDS``: the whole command ends by then, whatever a server does.

Each request already has its own deadline (``http.api``); this bounds the
command, so a cron job or CI step never hangs on a server that answers just
slowly enough, page after page. A timer thread is used rather than a
deadline inside the event loop because it also covers what runs outside it
(loading a manifest, waiting on a lock) and cannot be held up by a busy loop.

When it fires, the process exits at once with status 1. For plan, drift and
get nothing was changed; an apply stops as if the machine had stopped, which
apply is built to survive: a rerun plans only what is left and never
duplicates what was sent (see ``apply.verify``). Before it exits, whoever asked
for ``last_words`` hears the message too: ``--format json`` promises a document
with ``error`` on stdout whatever ends the command, this deadline included.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

import click

__all__ = ["last_words", "misplaced_timeout", "start_deadline"]

# Told the deadline's message just before the process ends (a JSON document, a report).
_listeners: list[Callable[[str], None]] = []


def start_deadline(seconds: float) -> None:
    """End the process with a clear message once ``seconds`` have passed."""
    timer = threading.Timer(seconds, _expire, args=(seconds,))
    timer.daemon = True  # a command that finishes in time exits as usual
    timer.start()


@contextmanager
def last_words(say: Callable[[str], None]) -> Iterator[None]:
    """While inside, ``say`` is told the deadline's message if it fires.

    ``os._exit`` skips every ``except`` and ``finally``, so a command cannot
    catch the deadline the way it catches its own errors: it says here what
    it would have written instead.
    """
    _listeners.append(say)
    try:
        yield
    finally:
        _listeners.remove(say)


def _expire(seconds: float) -> None:
    message = (
        f"exportctl did not finish within {seconds:g} s (--timeout) and stopped. "
        "A plan, drift or get changed nothing; an apply may have sent part of its "
        "changes: run it again to finish them (it plans only what is left)."
    )
    sys.stderr.write(f"\nError: {message}\n")
    sys.stderr.flush()
    for say in tuple(_listeners):
        with suppress(Exception):  # the process ends either way; stderr has the message
            say(message)
    with suppress(OSError, ValueError):  # a reader that went away, a stdout already closed
        sys.stdout.flush()
    os._exit(1)


def misplaced_timeout(error: click.UsageError, args: Sequence[str]) -> click.UsageError:
    """``error``, or a plainer one when a subcommand was given the group's ``--timeout``.

    click would answer ``exportctl plan --timeout 1`` with "No such option
    '--timeout'. Did you mean '--out'?", which sends the user the wrong way:
    the option exists, it only belongs before the subcommand. ``args`` are the
    subcommand's arguments, for the value to show.
    """
    if not isinstance(error, click.NoSuchOption) or error.option_name != "--timeout":
        return error
    if error.ctx is None:
        return error
    # Named as every message names it: a test's runner calls the group "cli".
    path = error.ctx.command_path.removeprefix(error.ctx.find_root().command_path).strip()
    command = f"exportctl --timeout {_timeout_value(args)} {path} ..."
    return click.UsageError(
        f"--timeout is an option of exportctl itself: write `{command}`", ctx=error.ctx
    )


def _timeout_value(args: Sequence[str]) -> str:
    """The value given to ``--timeout`` in ``args``, or its metavar when there is none."""
    for i, arg in enumerate(args):
        if arg.startswith("--timeout="):
            return arg.removeprefix("--timeout=") or "SECONDS"
        if arg == "--timeout" and i + 1 < len(args) and not args[i + 1].startswith("-"):
            return args[i + 1]
    return "SECONDS"
