"""The ``site`` fixture: a fresh data-tools sandbox on a loopback socket per test.

uvicorn's own ``Date`` header is turned off: the app writes one from the
sandbox clock, and two would reach the client joined into one unreadable value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import trustme

from reconciler.providers.datatools.sandbox.app import create_app, sandbox_service
from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.datatools.support import Site

SiteFactory = Callable[..., Site]


@pytest.fixture
def site_factory(tmp_path: Path) -> Iterator[SiteFactory]:
    """Start sandboxes: ``factory(knobs=None, environ=None, db=None, tls=None, **fault_knobs)``.

    ``tls`` serves https with a certificate for 127.0.0.1 signed by that authority.
    """
    with ExitStack() as stack:
        count = 0

        def start(
            knobs: DatatoolsKnobs | None = None,
            environ: dict[str, str] | None = None,
            db: Path | None = None,
            tls: trustme.CA | None = None,
            **faults: Any,
        ) -> Site:
            nonlocal count
            count += 1
            options: dict[str, Any] = {"date_header": False}
            if tls is not None:
                options.update(_certificate_files(tls, tmp_path / f"tls-{count}"))
            faults.setdefault("job_delay_ms", 30)
            clock = SandboxClock()
            app = create_app(
                db or tmp_path / f"datatools-{count}.db",
                config=SandboxConfig(**faults),
                clock=clock,
                knobs=knobs,
                environ={} if environ is None else environ,
            )
            stack.callback(sandbox_service(app).store.close)
            root = stack.enter_context(serve_app_in_thread(app, **options))
            return Site(app, root, clock)

        yield start


@pytest.fixture
def site(site_factory: SiteFactory) -> Site:
    return site_factory()


def _certificate_files(authority: trustme.CA, folder: Path) -> dict[str, Any]:
    folder.mkdir()
    cert = authority.issue_cert("127.0.0.1")
    chain, key = folder / "chain.pem", folder / "key.pem"
    for number, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(chain, append=number > 0)
    cert.private_key_pem.write_to_path(key)
    return {"ssl_certfile": str(chain), "ssl_keyfile": str(key)}
