"""Data-tools sandboxes on a loopback socket: ``site`` (fresh per test), ``shared_site``.

``shared_site`` serves a whole module, for parametrized tests that only read
or add what no other case looks at: a server costs ~0.1 s to stop (uvicorn's
shutdown pause), paid once instead of per case. uvicorn's own ``Date`` header
is turned off: the app writes one from the sandbox clock, and two would
reach the client joined into one unreadable value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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


@contextmanager
def serving(
    folder: Path,
    knobs: DatatoolsKnobs | None = None,
    environ: dict[str, str] | None = None,
    tls: trustme.CA | None = None,
    **faults: Any,
) -> Iterator[Site]:
    """A sandbox over ``folder``'s database; ``tls`` serves https with that authority's cert."""
    options: dict[str, Any] = {"date_header": False}
    if tls is not None:
        options.update(_certificate_files(tls, folder))
    faults.setdefault("job_delay_ms", 30)
    clock = SandboxClock()
    app = create_app(
        folder / "datatools.db",
        config=SandboxConfig(**faults),
        clock=clock,
        knobs=knobs,
        environ={} if environ is None else environ,
    )
    try:
        with serve_app_in_thread(app, **options) as root:
            yield Site(app, root, clock)
    finally:
        sandbox_service(app).store.close()


@pytest.fixture
def site_factory(tmp_path: Path) -> Iterator[SiteFactory]:
    """Start sandboxes: ``factory(knobs=None, environ=None, tls=None, **fault_knobs)``."""
    with ExitStack() as stack:
        count = 0

        def start(**settings: Any) -> Site:
            nonlocal count
            count += 1
            folder = tmp_path / f"site-{count}"
            folder.mkdir()
            return stack.enter_context(serving(folder, **settings))

        yield start


@pytest.fixture
def site(site_factory: SiteFactory) -> Site:
    return site_factory()


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serving(tmp_path_factory.mktemp("shared-site")) as site:
        yield site


def _certificate_files(authority: trustme.CA, folder: Path) -> dict[str, Any]:
    cert = authority.issue_cert("127.0.0.1")
    chain, key = folder / "chain.pem", folder / "key.pem"
    for number, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(chain, append=number > 0)
    cert.private_key_pem.write_to_path(key)
    return {"ssl_certfile": str(chain), "ssl_keyfile": str(key)}
