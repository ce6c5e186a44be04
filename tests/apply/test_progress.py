"""Progress lines: one per finished change, and a redrawn summary on a terminal."""

import io

from reconciler.apply.result import ActionResult, Outcome
from reconciler.plan import Action
from reconciler.progress import LineProgress, TerminalProgress, make_progress
from reconciler.providers.mammoth.model import DataviewRef

REF = DataviewRef(1, 1, 123, 456)
CREATED = ActionResult(
    REF.scope, "monthly-sales", Action.ADD, "s3", Outcome.APPLIED, "created as export 17", "17"
)
FAILED = ActionResult(
    REF.scope, "old", Action.DELETE, "s3", Outcome.FAILED, "failed: HTTP 500", "4"
)


def test_a_ci_log_gets_one_plain_line_per_change() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress.finished(CREATED, 3, 12)
    progress.finished(FAILED, 4, 12)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "dataview 1/1/123/456: + monthly-sales (s3) created as export 17 [3/12]",
        "dataview 1/1/123/456: - old (s3) failed: HTTP 500 [4/12]",
    ]


def test_a_terminal_keeps_a_summary_line_redrawn_in_place() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    progress.finished(CREATED, 1, 2)
    progress.finished(FAILED, 2, 2)
    progress.close()
    assert stream.getvalue() == (
        "\r\x1b[Kdataview 1/1/123/456: + monthly-sales (s3) created as export 17 [1/2]\n"
        "Applying... 1/2 done: 1 applied"
        "\r\x1b[Kdataview 1/1/123/456: - old (s3) failed: HTTP 500 [2/2]\n"
        "Applying... 2/2 done: 1 applied, 1 failed"
        "\r\x1b[K"
    )


def test_a_pipe_gets_plain_lines() -> None:
    assert isinstance(make_progress(io.StringIO()), LineProgress)
