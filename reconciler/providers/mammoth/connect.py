"""Turn the CLI's connection options into a ready ``MammothClient``.

Two ways to reach an API:

- ``--sandbox [DB]``: the embedded sandbox app, mounted in-process through an
  ASGI transport, its database created on first use together with the
  manifest's dataviews, so a first run needs no server and no credentials.
- otherwise the real API at ``--endpoint`` / ``MAMMOTH_BASE_URL`` (default
  ``https://app.mammoth.io/api/v2``) with ``MAMMOTH_API_KEY`` and
  ``MAMMOTH_API_SECRET`` from the environment, the names the official SDK uses.
  Credentials never come from flags and are never echoed, not even in errors.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.http.retry import RetryPolicy
from reconciler.http.urls import base_url_problem, shown_url
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.model import DataviewRef

__all__ = [
    "DEFAULT_BASE_URL",
    "SANDBOX_BASE_URL",
    "base_url_from",
    "open_client",
]

DEFAULT_BASE_URL = "https://app.mammoth.io/api/v2"
# The in-process sandbox needs a URL; nothing resolves or connects to this host.
SANDBOX_BASE_URL = "http://sandbox.invalid/api/v2"
CREDENTIAL_VARIABLES = ("MAMMOTH_API_KEY", "MAMMOTH_API_SECRET")
# The seed file (`sandbox serve --seed` format) the embedded sandbox starts from.
SANDBOX_SEED_VARIABLE = "EXPORTCTL_SANDBOX_SEED"


def open_client(
    *,
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
    dataviews: Iterable[DataviewRef] = (),
    sandbox_connections: Iterable[str] = (),
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
) -> MammothClient:
    """A client for the sandbox (when ``sandbox_db`` is set) or for the real API.

    Use the result with ``async with``. ``dataviews`` and ``sandbox_connections``
    matter only for the sandbox, which creates them if missing.
    """
    env = os.environ if environ is None else environ
    if sandbox_db is not None:
        return _sandbox_client(
            sandbox_db,
            parallelism,
            dataviews,
            sandbox_connections,
            env,
            timeout=timeout,
            retry=retry,
        )
    key, secret = _credentials(env)
    return MammothClient(
        base_url_from(endpoint, env),
        key,
        secret,
        parallelism=parallelism,
        timeout=timeout,
        retry=retry,
    )


def _credentials(env: Mapping[str, str]) -> tuple[str, str]:
    missing = [name for name in CREDENTIAL_VARIABLES if not env.get(name)]
    if missing:
        names = " and ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(
            f"{names} {verb} not set. Export the Mammoth API key and secret in those "
            "environment variables (credentials are never taken from flags), or use "
            "--sandbox to run against the embedded sandbox."
        )
    return env["MAMMOTH_API_KEY"], env["MAMMOTH_API_SECRET"]


def base_url_from(endpoint: str | None, env: Mapping[str, str]) -> str:
    """The API base URL from ``--endpoint``, else ``MAMMOTH_BASE_URL``, else the default."""
    url = (endpoint or env.get("MAMMOTH_BASE_URL") or DEFAULT_BASE_URL).strip()
    problem = base_url_problem(url, credentials="set MAMMOTH_API_KEY and MAMMOTH_API_SECRET")
    if problem:
        raise ConfigError(
            f"The endpoint {shown_url(url)!r} (from --endpoint or MAMMOTH_BASE_URL) {problem}. "
            f"Expected a URL like {DEFAULT_BASE_URL}."
        )
    return url.rstrip("/")


def _sandbox_client(
    db: str,
    parallelism: int,
    dataviews: Iterable[DataviewRef],
    connections: Iterable[str],
    env: Mapping[str, str],
    *,
    timeout: float,
    retry: RetryPolicy | None,
) -> MammothClient:
    # Imported here: the sandbox (starlette, sqlite) is not needed against the real API.
    from reconciler.providers.mammoth.sandbox.app import create_app, sandbox_service
    from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
    from reconciler.providers.mammoth.sandbox.seed import SeedError
    from reconciler.sandbox.transport import in_process_transport

    credentials = SandboxCredentials.from_env(env)
    # With the served sandbox's seed, the embedded one knows the same connections
    # and refuses the same unknown ones; without, it takes the manifest's as given.
    seed = env.get(SANDBOX_SEED_VARIABLE) or None
    problem = None
    try:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
        app = create_app(db, credentials=credentials, seed_file=seed)
        store = sandbox_service(app).store
        store.ensure_dataviews(dataviews)
        if seed is None:
            store.add_connections(connections)
    except SeedError as exc:
        raise ConfigError(
            f"{exc} (the seed named by {SANDBOX_SEED_VARIABLE}). Fix the seed file, or "
            f"unset {SANDBOX_SEED_VARIABLE}."
        ) from None
    except (OSError, sqlite3.Error) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:  # raised outside the except block: the message says it all
        raise ConfigError(
            f"Cannot open the sandbox database {db!r} ({problem}). "
            "Pass a writable file path to --sandbox."
        )
    return MammothClient(
        SANDBOX_BASE_URL,
        credentials.key,
        credentials.secret,
        transport=in_process_transport(app, on_close=store.close),
        parallelism=parallelism,
        timeout=timeout,
        retry=retry,
    )
