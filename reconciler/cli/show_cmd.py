"""``exportctl show``: render a saved plan file without contacting the API.

CI saves the plan on the pull request and shows it again where it is applied
(``exportctl show exportctl.plan --no-color``); rendering goes through the same
call as ``exportctl plan``, so the text is the one the reviewer saw.
"""

from __future__ import annotations

import sys
from shlex import quote

import click

from reconciler.cli.options import color_option, format_option
from reconciler.planfile import load_plan
from reconciler.render.formats import render_plan
from reconciler.render.style import should_color

__all__ = ["show"]


@click.command("show")
@click.argument("planfile", metavar="PLANFILE")
@format_option("text", "json", "markdown")
@color_option
def show(planfile: str, output_format: str, color: bool | None) -> int:
    """Render a saved PLANFILE (from 'exportctl plan --out') as text, JSON or Markdown.

    Offline: needs no credentials, lists nothing, changes nothing.

    \b
    Examples:
      exportctl show exportctl.plan --no-color
      exportctl show exportctl.plan --format markdown > plan.md
    """
    # A manifest here wants the plan of it: plan renders what show would have.
    saved = load_plan(planfile, manifest_hint=f"exportctl plan -f {quote(planfile)}")
    color_on = should_color(sys.stdout, color)
    sys.stdout.write(render_plan(saved.plan_json, output_format, color=color_on))
    return 0
