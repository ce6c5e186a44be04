"""Progress lines printed while apply runs, one per finished change.

In a CI log each change gets exactly one line as it finishes, e.g.::

    dataview 1/1/123/456: + monthly-sales (s3) created as export 17 [3/12]

On a terminal a summary line ("Applying... 3/12 done: 2 applied, 1 failed") is
kept at the bottom and redrawn after every change. The engine calls a
``Progress`` from its event loop; implementations only write text.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, TextIO

from reconciler.apply.result import ActionResult, Outcome

__all__ = ["LineProgress", "Progress", "TerminalProgress", "format_line", "make_progress"]


class Progress(Protocol):
    """Told about every change as it finishes; ``close`` once at the end."""

    def finished(self, result: ActionResult, done: int, total: int) -> None: ...

    def close(self) -> None: ...


def format_line(result: ActionResult, done: int, total: int) -> str:
    """The one line a finished change gets in the log."""
    return (
        f"{result.scope.title}: {result.action.symbol} {result.key} "
        f"({result.type}) {result.message} [{done}/{total}]"
    )


class LineProgress:
    """Plain lines, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def finished(self, result: ActionResult, done: int, total: int) -> None:
        self._stream.write(format_line(result, done, total) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Nothing to tidy: every line is already complete."""


class TerminalProgress:
    """Lines plus a live summary line at the bottom, redrawn in place."""

    _CLEAR = "\r\x1b[K"

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._outcomes: Counter[Outcome] = Counter()

    def finished(self, result: ActionResult, done: int, total: int) -> None:
        self._outcomes[result.outcome] += 1
        self._stream.write(f"{self._CLEAR}{format_line(result, done, total)}\n")
        self._stream.write(self._summary(done, total))
        self._stream.flush()

    def close(self) -> None:
        self._stream.write(self._CLEAR)
        self._stream.flush()

    def _summary(self, done: int, total: int) -> str:
        parts = [f"{self._outcomes[o]} {o.value}" for o in Outcome if self._outcomes[o]]
        return f"Applying... {done}/{total} done: {', '.join(parts)}"


def make_progress(stream: TextIO) -> Progress:
    """A terminal progress on a TTY, plain lines anywhere else."""
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return TerminalProgress(stream)
    return LineProgress(stream)
