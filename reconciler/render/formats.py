"""The plan in each ``--format`` that ``plan`` and ``show`` offer.

Both commands print through this one call, so a saved plan shown with
``exportctl show`` reads exactly as it did when ``exportctl plan`` made it.
"""

from __future__ import annotations

import json

from reconciler.plan_json import PlanJson
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

__all__ = ["render_plan"]


def render_plan(plan_json: PlanJson, output_format: str, *, color: bool) -> str:
    """The plan as ``text``, ``json`` or ``markdown``; only text is ever coloured."""
    if output_format == "json":
        return json.dumps(plan_json, indent=2) + "\n"
    if output_format == "markdown":
        return render_markdown(plan_json)
    return render_text(plan_json, color=color)
