"""The shared sandbox fixture, with the dataviews the apply tests use, at a known DB path."""

from pathlib import Path

import pytest

from tests.apply.helpers import REF, REF2
from tests.conftest import SandboxFactory
from tests.sandboxes import RunningSandbox


@pytest.fixture
def server(sandbox_factory: SandboxFactory, tmp_path: Path) -> RunningSandbox:
    running = sandbox_factory(db_path=tmp_path / "sandbox.db")
    running.store.ensure_dataviews([REF, REF2])
    return running
