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
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import format_option, planning_options
from reconciler.cli.session import json_on_error, load_and_plan
from reconciler.drift_json import drift_error_to_json, drift_to_json
from reconciler.errors import ConfigError
from reconciler.plan_json import plan_to_json
from reconciler.render.drift_report import render_drift_markdown, render_drift_text
from reconciler.render.style import should_color

__all__ = ["drift"]

DRIFT_FOUND = 2


@click.command("drift")
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
    # Alerting reads stdout: a document either way, never "in sync" on an error.
    with json_on_error(output_format, lambda message: _as_json(drift_error_to_json(message))):
        planned = load_and_plan(files, **where)
    report = drift_to_json(plan_to_json(planned.plan))
    sys.stdout.write(_render(report, output_format, color=should_color(sys.stdout, color)))
    if report_path is not None:
        _write_report(Path(report_path), report)
    return 0 if report["in_sync"] else DRIFT_FOUND


def _render(report: dict[str, Any], output_format: str, *, color: bool) -> str:
    """Only the text form is coloured: JSON and Markdown are read by programs."""
    if output_format == "json":
        return _as_json(report)
    if output_format == "markdown":
        return render_drift_markdown(report)
    return render_drift_text(report, color=color)


def _as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"


def _write_report(path: Path, report: dict[str, Any]) -> None:
    try:
        path.write_text(_as_json(report), encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"Cannot write the drift report to {path}: {error.strerror}. "
            "Pass a writable path to --report."
        ) from None
