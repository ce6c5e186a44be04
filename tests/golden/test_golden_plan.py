"""The plan of ``examples/exports.yaml`` as users see it, pinned word for word.

A seeded sandbox (exports made by hand) gets the example applied, then a
changed copy of it is planned: adds, edits, a rotated secret, a delete, a
replace, adoptions, unmanaged exports and no-ops, in text, JSON and
Markdown. The expected outputs were recorded before the provider seam was
built, so any change to what users read shows here (the JSON modulo format
2's new shape, mapped by ``_as_format_2``). Regenerate the text and Markdown
only for an intended change: ``EXPORTCTL_GOLDEN_WRITE=1 pytest tests/golden``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan_json import FORMAT_VERSION
from tests.cli.support import invoke
from tests.conftest import SandboxFactory

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parents[1] / "examples" / "exports.yaml"
WRITE = os.environ.get("EXPORTCTL_GOLDEN_WRITE") == "1"


@pytest.fixture
def planned(sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MAMMOTH_API_KEY", "sandbox")
    monkeypatch.setenv("MAMMOTH_API_SECRET", "sandbox")
    for name in ("MAMMOTH_BASE_URL", "PG_WRITER_PASSWORD", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    server = sandbox_factory(seed_file=HERE / "seed.yaml")
    # One dataview at a time, so the sandbox hands out the same ids every run.
    where = ("--endpoint", server.base_url, "--parallelism", "1")
    applied = invoke("apply", "-f", EXAMPLE, *where, "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    outputs = {}
    formats = {"plan.txt": "text", "plan.json": "json", "plan.md": "markdown"}
    for name, output_format in formats.items():
        result = invoke("plan", "-f", HERE / "changed.yaml", *where, "--format", output_format)
        assert result.exit_code == 0, result.stdout + result.stderr
        outputs[name] = result.stdout
    return outputs


def _stable_json(text: str) -> Any:
    """The JSON plan without what differs per run: marker salts make live fingerprints random."""
    document = json.loads(text)
    for scope_plan in document["scopes"]:
        scope_plan["live_fingerprint"] = "(per run)"
    return document


def _as_format_2(text: str) -> str:
    """The pinned format-1 plan (from before the provider seam) in format 2's shape.

    Format 2 moved the dataview into an opaque scope, renamed ``handler_type``
    and ``export_id`` to ``type`` and ``id`` (a string) and counts the
    snapshot actions; nothing else may differ.
    """
    old = json.loads(text)
    counts = {**old["summary"]["counts"], "run": 0, "wait": 0, "fresh": 0}
    return json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "manifest_digest": old["manifest_digest"],
            "summary": {**old["summary"], "counts": counts},
            "scopes": [_scope_plan(dataview) for dataview in old["dataviews"]],
        }
    )


def _scope_plan(dataview: dict[str, Any]) -> dict[str, Any]:
    ids = {name: value for name, value in dataview["dataview"].items() if name != "address"}
    return {
        "provider": "mammoth",
        "kind": "exports",
        "scope": {
            "address": dataview["dataview"]["address"],
            "noun": "dataview",
            "resource_noun": "export",
            "fields": ids,
        },
        "live_fingerprint": dataview["live_fingerprint"],
        "changes": [
            {
                "action": c["action"],
                "symbol": c["symbol"],
                "key": c["key"],
                "type": c["handler_type"],
                "id": None if c["export_id"] is None else str(c["export_id"]),
                "reason": c["reason"],
                "refused": c["refused"],
                "drift": c["drift"],
                "fields": c["fields"],
            }
            for c in dataview["changes"]
        ],
    }


@pytest.mark.parametrize("name", ["plan.txt", "plan.md"])
def test_text_and_markdown_are_unchanged(planned: dict[str, str], name: str) -> None:
    if WRITE:
        (HERE / name).write_text(planned[name], encoding="utf-8")
    assert planned[name] == (HERE / name).read_text(encoding="utf-8")


def test_json_is_unchanged_but_for_the_format_bump(planned: dict[str, str]) -> None:
    """``plan.json`` stays as format 1 made it before the seam: the proof of no change."""
    expected = _stable_json(_as_format_2((HERE / "plan.json").read_text(encoding="utf-8")))
    assert _stable_json(planned["plan.json"]) == expected
