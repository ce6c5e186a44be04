"""``exportctl drift``: report where the live exports differ from the manifest.

Made for cron and alerting: it plans exactly like ``exportctl plan`` (the same
options and session flow, so the two never disagree) but sorts what it finds
by why live differs: *changed by hand*, *not yet applied*, *missing*,
*unmanaged*. It only lists exports; it never writes to the API. Exit 0 in
sync, 2 drift, 1 error.
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import format_option, planning_options
from reconciler.cli.session import JsonErrorCommand, json_on_error, load_and_plan, on_error
from reconciler.drift_json import drift_error_to_json, drift_to_json
from reconciler.errors import ConfigError
from reconciler.plan_json import plan_to_json
from reconciler.render.drift_report import render_drift_markdown, render_drift_text
from reconciler.render.style import should_color

__all__ = ["drift"]

DRIFT_FOUND = 2


def _error_document(message: str) -> str:
    """The report of a drift that failed: never ``in_sync``, with the ``error``."""
    return _as_json(drift_error_to_json(message))


@click.command("drift", cls=JsonErrorCommand, error_document=_error_document)
@planning_options(
    format_option("text", "json", "markdown"),
    click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, writable=True),
        metavar="FILE",
        help="Also write the JSON drift report to FILE, whatever --format says "
        "(schemas/drift-report.schema.json).",
    ),
)
def drift(
    files: tuple[str, ...],
    output_format: str,
    report_path: str | None,
    color: bool | None,
    **where: Any,
) -> int:
    """Report exports changed by hand, not yet applied, missing or unmanaged.

    Read-only: it lists the live exports and changes nothing. Run it from cron;
    a non-zero exit is the alert.

    \b
    Examples:
      exportctl drift -f exports/                                  # text for a person
      exportctl drift -f exports/ --format markdown --report drift.json > drift.md
      exportctl drift -f exports/ --exclude dataview=311           # skip a dataview

    \b
    Exit codes: 0 in sync, 2 drift found, 1 error.
    """
    # ``where``: the selectors and connection options, as ``load_and_plan`` takes them.
    # Alerting reads stdout and the report: a document either way, never "in sync"
    # on an error (a report left from the last run would say it still was).
    with json_on_error(output_format, _error_document), _report_on_error(report_path):
        planned = load_and_plan(files, **where)
    report = drift_to_json(plan_to_json(planned.plan))
    sys.stdout.write(_render(report, output_format, color=should_color(sys.stdout, color)))
    if report_path is not None:
        _write_report(Path(report_path), _as_json(report))
    return 0 if report["in_sync"] else DRIFT_FOUND


def _report_on_error(report_path: str | None) -> AbstractContextManager[None]:
    """With ``--report``, a drift that fails writes its error document there."""
    if report_path is None:
        return nullcontext()

    def write(message: str) -> None:
        try:
            _write_report(Path(report_path), _error_document(message))
        except ConfigError as unwritable:  # the error being reported matters more
            click.echo(f"Warning: {unwritable.message}", err=True)

    return on_error(write)


def _render(report: dict[str, Any], output_format: str, *, color: bool) -> str:
    """Only the text form is coloured: JSON and Markdown are read by programs."""
    if output_format == "json":
        return _as_json(report)
    if output_format == "markdown":
        return render_drift_markdown(report)
    return render_drift_text(report, color=color)


def _as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"


def _write_report(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"Cannot write the drift report to {path}: {error.strerror}. "
            "Pass a writable path to --report."
        ) from None
