"""The embedded ``--sandbox`` refuses what a served sandbox with the same seed refuses.

An internal dataset whose name an export of the seed already writes is
refused at preflight by ``sandbox serve --seed`` (over a real socket); with
``EXPORTCTL_SANDBOX_SEED`` naming that seed, the in-process sandbox must say
the same, word for word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import (
    DATAVIEWS,
    REFUSED_MANIFEST,
    SECRET,
    SECRET_VARIABLE,
    TAKEN_DATASET,
    invoke,
    write_manifest,
)
from tests.conftest import SandboxFactory

SEED = f"""\
dataviews:
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 457
    exports:
      - handler_type: internal_dataset
        trigger_type: none
        run_immediately: false
        target_properties: {{dataset_name: {TAKEN_DATASET}}}
"""


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED, encoding="utf-8")
    return path


@pytest.fixture
def taken_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    monkeypatch.setenv("MAMMOTH_API_KEY", "sandbox")
    monkeypatch.setenv("MAMMOTH_API_SECRET", "sandbox")
    return write_manifest(tmp_path, REFUSED_MANIFEST)


def _failures(*args: str | Path) -> list[dict[str, object]]:
    result = invoke("plan", *args, "--preflight", "--format", "json")
    assert result.exit_code == 1, result.stderr
    failures: list[dict[str, object]] = json.loads(result.stdout)["preflight"]["failures"]
    return failures


def test_the_embedded_sandbox_with_the_seed_refuses_as_the_served_one(
    sandbox_factory: SandboxFactory,
    seed_file: Path,
    taken_dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = sandbox_factory(seed_file=seed_file)
    served.store.ensure_dataviews(DATAVIEWS)  # as --sandbox creates the manifest's
    over_socket = _failures("-f", taken_dataset, "--endpoint", served.base_url)
    monkeypatch.setenv("EXPORTCTL_SANDBOX_SEED", str(seed_file))
    in_process = _failures("-f", taken_dataset, f"--sandbox={tmp_path / 'embedded.db'}")
    assert in_process == over_socket
    assert [f["key"] for f in in_process] == ["curated"]


def test_without_a_seed_the_embedded_sandbox_has_nothing_to_clash_with(
    taken_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPORTCTL_SANDBOX_SEED", raising=False)
    result = invoke("plan", "-f", taken_dataset, f"--sandbox={tmp_path / 'e.db'}", "--preflight")
    assert result.exit_code == 0, result.stderr


def test_a_broken_seed_is_named_with_the_variable(
    taken_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("connections: 7\n", encoding="utf-8")
    monkeypatch.setenv("EXPORTCTL_SANDBOX_SEED", str(broken))
    result = invoke("plan", "-f", taken_dataset, f"--sandbox={tmp_path / 'e.db'}")
    assert result.exit_code == 1
    assert "(the seed named by EXPORTCTL_SANDBOX_SEED). Fix the seed file, or unset" in (
        result.stderr
    )


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HAND_MADE = "  ? 1/1/123/456 s3:legacy.csv (s3, export 1): not managed by exportctl"


def test_the_example_seed_serves_the_example_manifest_in_either_sandbox(
    sandbox_factory: SandboxFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the seed's comment says: both of its commands plan examples/exports.yaml,
    with the hand-made export listed as unmanaged, and preflight passes."""
    seed = EXAMPLES / "sandbox" / "seed.yaml"
    monkeypatch.delenv("PG_WRITER_PASSWORD", raising=False)
    monkeypatch.setenv("MAMMOTH_API_KEY", "sandbox")
    monkeypatch.setenv("MAMMOTH_API_SECRET", "sandbox")
    served = sandbox_factory(seed_file=seed)  # makes only the dataviews the seed names
    monkeypatch.setenv("EXPORTCTL_SANDBOX_SEED", str(seed))
    for where in (("--endpoint", served.base_url), (f"--sandbox={tmp_path / 'e.db'}",)):
        result = invoke("plan", "-f", EXAMPLES / "exports.yaml", *where, "--preflight")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert any(line.startswith(HAND_MADE) for line in result.stdout.splitlines())
        assert result.stdout.endswith(
            "Preflight passed: the server accepted 7 changes sent with validate_only.\n"
        )
