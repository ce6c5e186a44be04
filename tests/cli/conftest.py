"""The CLI tests' sandbox (with the manifest's dataviews) and environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import DATAVIEWS, SECRET, SECRET_VARIABLE, write_manifest
from tests.conftest import SandboxFactory
from tests.sandboxes import RunningSandbox


@pytest.fixture
def server(sandbox_factory: SandboxFactory) -> RunningSandbox:
    running = sandbox_factory()
    running.store.ensure_dataviews(DATAVIEWS)
    return running


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's credentials and the manifest's secret, as CI would export them."""
    monkeypatch.setenv("MAMMOTH_API_KEY", "sandbox")
    monkeypatch.setenv("MAMMOTH_API_SECRET", "sandbox")
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    monkeypatch.delenv("MAMMOTH_BASE_URL", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path)
