"""A sandbox on a real loopback socket, with the dataviews the apply tests use."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import RunningSandbox, serve_in_thread
from tests.apply.helpers import REF, REF2


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningSandbox]:
    with serve_in_thread(tmp_path / "sandbox.db", SandboxConfig()) as running:
        running.store.ensure_dataviews([REF, REF2])
        yield running
