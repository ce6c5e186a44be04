"""The Mailgun sandbox on a real loopback socket, one fresh app and database per test.

One server per module serves whichever sandbox app the test started last:
stopping a uvicorn server takes a tenth of a second, most of a test's time.
uvicorn runs with ``date_header=False`` so the only ``Date`` an answer
carries is the sandbox clock's (see the sandbox app's docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.providers.mailgun.sandbox.app import create_app, sandbox_service
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.mailgun.support import RunningMailgun

MailgunFactory = Callable[..., RunningMailgun]


class _Current:
    """Where the module's server sends each request: the sandbox app of the running test."""

    app: ASGIApp | None = None


class _ToCurrent:
    def __init__(self, app: ASGIApp, current: _Current) -> None:
        self.current = current

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.current.app is not None, "no sandbox started in this test"
        await self.current.app(scope, receive, send)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[_Current, str]]:
    current = _Current()
    front = Starlette(middleware=[Middleware(_ToCurrent, current=current)])
    with serve_app_in_thread(front, date_header=False) as root:
        yield current, root


@pytest.fixture
def mailgun_factory(tmp_path: Path, _server: tuple[_Current, str]) -> Iterator[MailgunFactory]:
    """Start sandboxes: ``factory(db_path=None, api_key="sandbox", **knobs)``.

    Knobs are ``SandboxConfig`` fault knobs; exports complete after one
    minute unless ``job_delay_ms`` says otherwise, so tests move the clock
    instead of sleeping. Each start replaces the sandbox being served; a
    start on the same ``db_path`` is a restart.
    """
    current, root = _server
    with ExitStack() as stack:
        stack.callback(setattr, current, "app", None)
        count = 0

        def start(
            db_path: Path | None = None, api_key: str = "sandbox", **knobs: Any
        ) -> RunningMailgun:
            nonlocal count
            count += 1
            db = db_path if db_path is not None else tmp_path / f"mailgun-{count}.db"
            clock = SandboxClock()
            config = SandboxConfig(**{"job_delay_ms": 60_000, **knobs})
            app = create_app(db, config=config, clock=clock, environ={"MAILGUN_API_KEY": api_key})
            stack.callback(sandbox_service(app).store.close)
            current.app = app
            return RunningMailgun(app, root, clock, db)

        yield start


@pytest.fixture
def mailgun(mailgun_factory: MailgunFactory) -> RunningMailgun:
    """A sandbox with no faults, key ``sandbox``, exports completing after 60 s."""
    return mailgun_factory()
