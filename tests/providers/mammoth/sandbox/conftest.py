"""These tests check the pipeline's rules one answer at a time: their sandboxes
answer changes at once (``job_rate=0``) unless a test asks for jobs. The
default, every change answered 202 with a job, has tests of its own
(``test_jobs_and_faults.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.config import SandboxConfig
from tests.conftest import SandboxFactory
from tests.sandboxes import RunningSandbox


@pytest.fixture
def sandbox_factory(sandbox_factory: SandboxFactory) -> Iterator[SandboxFactory]:
    def start(
        config: SandboxConfig | None = None,
        seed_file: str | Path | None = None,
        db_path: str | Path | None = None,
        **knobs: Any,
    ) -> RunningSandbox:
        if config is None:
            knobs.setdefault("job_rate", 0)
        return sandbox_factory(config, seed_file, db_path, **knobs)

    yield start


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    return sandbox_factory()
