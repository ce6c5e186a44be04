"""The plan of ``examples/exports.yaml`` as users see it, pinned word for word.

A seeded sandbox (exports made by hand) gets the example applied, then a
changed copy of it is planned: adds, edits, a rotated secret, a delete, a
replace, adoptions, unmanaged exports and no-ops, in text, JSON and
Markdown. The expected outputs were recorded before the provider seam was
built, so any change to what users read shows here. Regenerate them only for
an intended change: ``EXPORTCTL_GOLDEN_WRITE=1 pytest tests/golden``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

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
    for dataview in document["dataviews"]:
        dataview["live_fingerprint"] = "(per run)"
    return document


@pytest.mark.parametrize("name", ["plan.txt", "plan.md"])
def test_text_and_markdown_are_unchanged(planned: dict[str, str], name: str) -> None:
    if WRITE:
        (HERE / name).write_text(planned[name], encoding="utf-8")
    assert planned[name] == (HERE / name).read_text(encoding="utf-8")


def test_json_is_unchanged(planned: dict[str, str]) -> None:
    if WRITE:
        (HERE / "plan.json").write_text(planned["plan.json"], encoding="utf-8")
    expected = _stable_json((HERE / "plan.json").read_text(encoding="utf-8"))
    assert _stable_json(planned["plan.json"]) == expected
