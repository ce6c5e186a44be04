"""Shared fixtures: the sandbox API on a real loopback socket.

``sandbox`` is a fresh server over a fresh database for one test;
``sandbox_factory`` starts servers with a chosen config, seed file or database
(a second start on the same database is how restarts are tested).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from reconciler import redaction
from reconciler.model import DesiredState
from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
from reconciler.sandbox.config import SandboxConfig
from tests.sandboxes import RunningSandbox, serve_in_thread

# Property tests run the same examples on every run (CI must not turn red on
# a new random draw); HYPOTHESIS_PROFILE=explore draws fresh ones, to look
# for counterexamples by hand.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

SANDBOX_HEADERS = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}


@pytest.fixture(autouse=True)
def _no_secrets_watched_from_an_earlier_test() -> Iterator[None]:
    """A CLI run watches its manifest's secrets and hides its credentials for the life of
    the process; a test is not one."""
    yield
    redaction.watch(DesiredState((), digest=""))
    redaction.forget_credentials()


SandboxFactory = Callable[..., RunningSandbox]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start sandboxes: ``factory(config=None, seed_file=None, db_path=None, **knobs)``.

    Knobs are SandboxConfig fields; credentials default to sandbox/sandbox
    whatever the environment says, so tests never depend on it.
    """
    with ExitStack() as stack:
        count = 0

        def start(
            config: SandboxConfig | None = None,
            seed_file: str | Path | None = None,
            db_path: str | Path | None = None,
            credentials: SandboxCredentials | None = None,
            **knobs: Any,
        ) -> RunningSandbox:
            nonlocal count
            count += 1
            # Jobs end the moment they start unless a test asks for slow ones: the
            # answers keep the real shape (202 with a job) without a poll's wait.
            knobs.setdefault("job_delay_ms", 0)
            chosen = config if config is not None else SandboxConfig(**knobs)
            db = db_path if db_path is not None else tmp_path / f"sandbox-{count}.db"
            return stack.enter_context(
                serve_in_thread(db, chosen, seed_file, credentials=credentials)
            )

        yield start


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    """A sandbox with no faults, an empty database and credentials sandbox/sandbox."""
    return sandbox_factory()
