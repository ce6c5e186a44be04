"""Progress lines printed while apply runs, one per finished change.

In a CI log each change gets exactly one line as it finishes, e.g.::

    dataview 1/1/123/456: + monthly-sales (s3) created as export 17 [3/12]

On a terminal a summary line ("Applying... 3/12 done: 2 applied, 1 failed") is
kept at the bottom and redrawn after every change, and while jobs run ("still
waiting on 3 jobs, 40 s"). The engine calls a ``Progress`` from its event
loop; implementations only write text. ``StatusLine`` is the same bottom line
for the phases before apply (listing, preflight): on a terminal only, since a
CI log gets their outcome in the plan itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, TextIO

from reconciler.apply.result import ActionResult, Outcome

__all__ = [
    "LineProgress",
    "Progress",
    "StatusLine",
    "TerminalProgress",
    "format_line",
    "make_progress",
]

_CLEAR = "\r\x1b[K"


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


class Progress(Protocol):
    """Told how many changes there are, then about every change as it finishes;
    ``close`` once at the end."""

    def started(self, total: int) -> None:
        """Told once, before any change is sent, how many changes will be applied."""

    def finished(self, result: ActionResult, done: int, total: int) -> None: ...

    def waiting(self, jobs: int, seconds: float) -> None:
        """Told on every poll while ``jobs`` background jobs are still running."""

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

    def started(self, total: int) -> None:
        """Nothing: each finished change's line carries the total."""

    def finished(self, result: ActionResult, done: int, total: int) -> None:
        self._stream.write(format_line(result, done, total) + "\n")
        self._stream.flush()

    def waiting(self, jobs: int, seconds: float) -> None:
        """Nothing: a log gets each job's change when it finishes, not a line per poll."""

    def close(self) -> None:
        """Nothing to tidy: every line is already complete."""


class TerminalProgress:
    """Lines plus a live summary line at the bottom, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._outcomes: Counter[Outcome] = Counter()
        self._done = self._total = 0

    def started(self, total: int) -> None:
        # Jobs can keep the first change from finishing for minutes: until then the
        # waiting line needs the total from here, or it reads "0/0 done".
        self._total = total

    def finished(self, result: ActionResult, done: int, total: int) -> None:
        self._outcomes[result.outcome] += 1
        self._done, self._total = done, total
        self._stream.write(f"{_CLEAR}{format_line(result, done, total)}\n")
        self._stream.write(self._summary())
        self._stream.flush()

    def waiting(self, jobs: int, seconds: float) -> None:
        noun = "job" if jobs == 1 else "jobs"
        waited = f"still waiting on {jobs} {noun}, {seconds:.0f} s"
        self._stream.write(f"{_CLEAR}{self._summary()}; {waited}")
        self._stream.flush()

    def close(self) -> None:
        self._stream.write(_CLEAR)
        self._stream.flush()

    def _summary(self) -> str:
        parts = [f"{self._outcomes[o]} {o.value}" for o in Outcome if self._outcomes[o]]
        counted = f": {', '.join(parts)}" if parts else ""
        return f"Applying... {self._done}/{self._total} done{counted}"


class StatusLine:
    """One line redrawn in place on a terminal ("Listing... 3/8 dataviews"); silent elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._on = _is_terminal(stream)

    def show(self, text: str) -> None:
        if self._on:
            self._stream.write(f"{_CLEAR}{text}")
            self._stream.flush()

    def close(self) -> None:
        self.show("")


def make_progress(stream: TextIO) -> Progress:
    """A terminal progress on a TTY, plain lines anywhere else."""
    return TerminalProgress(stream) if _is_terminal(stream) else LineProgress(stream)
