"""The Domo sandbox on a real loopback socket, one fresh server and database per test.

``domo_factory(**knobs)`` starts a sandbox with shared fault knobs
(``SandboxConfig`` fields) and Domo settings (``token``, ``timestamps``);
``domo`` is one with no faults and exports that finish after 50 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.domo.sandbox.app import create_app, sandbox_service
from reconciler.providers.domo.sandbox.settings import DomoSandboxSettings, TimestampForm
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.domo.support import DomoSandbox

DomoFactory = Callable[..., DomoSandbox]


@pytest.fixture
def domo_factory(tmp_path: Path) -> Iterator[DomoFactory]:
    with ExitStack() as stack:
        count = 0

        def start(
            *, token: str = "sandbox", timestamps: TimestampForm = "iso", **knobs: Any
        ) -> DomoSandbox:
            nonlocal count
            count += 1
            db = tmp_path / f"domo-{count}.db"
            app = create_app(
                db,
                config=SandboxConfig(**knobs),
                settings=DomoSandboxSettings(token, timestamps),
            )
            stack.callback(sandbox_service(app).store.close)
            # uvicorn's own Date header would come first; the sandbox's follows its clock.
            root = stack.enter_context(serve_app_in_thread(app, date_header=False))
            return DomoSandbox(root, token, db)

        yield start


@pytest.fixture
def domo(domo_factory: DomoFactory) -> DomoSandbox:
    return domo_factory()
