"""A secret that reaches the plan unredacted must still not reach any output."""

import json
from pathlib import Path

from reconciler.drift_json import drift_to_json
from reconciler.plan_json import plan_to_json
from reconciler.planfile import save_plan
from reconciler.render.drift_report import render_drift_markdown, render_drift_text
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.render.plans import SECRET, every_action_plan


def test_no_form_of_the_plan_shows_a_sensitive_value(tmp_path: Path) -> None:
    plan = every_action_plan()
    plan_json = plan_to_json(plan)
    report = drift_to_json(plan_json)
    save_plan(tmp_path / "plan.json", plan, secrets={}, sources=[])
    outputs = {
        "json": json.dumps(plan_json),
        "text": render_text(plan_json, color=False),
        "text, colour": render_text(plan_json, color=True),
        "markdown": render_markdown(plan_json),
        "drift json": json.dumps(report),
        "drift text": render_drift_text(report),
        "drift markdown": render_drift_markdown(report),
        "plan file": (tmp_path / "plan.json").read_text(),
    }
    assert [name for name, text in outputs.items() if SECRET in text] == []
    # Each form shows that a secret changed, only not what it is.
    assert [name for name, text in outputs.items() if "(sensitive)" not in text] == []


def test_a_hand_made_json_with_a_secret_in_a_sensitive_field_is_still_redacted() -> None:
    plan_json = plan_to_json(every_action_plan())
    field = plan_json["scopes"][0]["changes"][1]["fields"][2]
    assert field["sensitive"] is True
    field["old"], field["new"] = SECRET, SECRET
    report = drift_to_json(plan_json)
    for text in (
        render_text(plan_json, color=False),
        render_markdown(plan_json),
        render_drift_text(report),
        render_drift_markdown(report),
    ):
        assert SECRET not in text
