"""``exportctl sandbox serve``: run the local Mammoth API sandbox on a port."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import click

from reconciler.cli.options import DEFAULT_SANDBOX_DB
from reconciler.errors import ConfigError

__all__ = ["sandbox"]

_RATE = click.FloatRange(0, 1)
_NON_NEGATIVE = click.FloatRange(min=0)


@click.group()
def sandbox() -> None:
    """Run a local server that behaves like Mammoth's exports and jobs API."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--db",
    "db_path",
    default=DEFAULT_SANDBOX_DB,
    show_default=True,
    metavar="FILE",
    help="SQLite file holding the sandbox's data; created if missing, kept across runs.",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="YAML with connections and dataviews (and their existing exports) to create.",
)
@click.option("--latency-ms", type=_NON_NEGATIVE, default=0, help="Delay every API answer.")
@click.option("--error-rate", type=_RATE, default=0, help="Share of API requests answered 503.")
@click.option(
    "--throttle-rate",
    type=_RATE,
    default=0,
    help="Share of API requests answered 429 with Retry-After.",
)
@click.option(
    "--retry-after",
    "retry_after_s",
    type=_NON_NEGATIVE,
    default=1,
    show_default=True,
    help="Seconds sent in Retry-After with a 429 (fractions allowed).",
)
@click.option(
    "--job-rate",
    type=_RATE,
    default=0,
    help="Share of changes answered 202 with a job instead of done at once.",
)
@click.option(
    "--job-delay-ms",
    type=_NON_NEGATIVE,
    default=50,
    show_default=True,
    help="How long a job stays 'processing'.",
)
@click.option(
    "--job-failure-rate",
    type=_RATE,
    default=0,
    help="Share of jobs that end in 'failure' without changing anything.",
)
@click.option(
    "--commit-then-fail-rate",
    type=_RATE,
    default=0,
    help="Share of changes that are saved but answered with a failure.",
)
@click.option(
    "--commit-then-fail-every",
    type=click.IntRange(min=0),
    default=0,
    help="Fail the answer of every Nth saved change (0 = never).",
)
@click.option(
    "--commit-then-fail-mode",
    type=click.Choice(["503", "drop"]),
    default="503",
    show_default=True,
    help="How such an answer fails: a 503, or a dropped connection.",
)
@click.option(
    "--fault-seed",
    "seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the fault dice: same seed, same requests, same faults.",
)
def serve(host: str, port: int, db_path: str, seed_file: str | None, **knobs: Any) -> None:
    """Serve the sandbox API at http://HOST:PORT/api/v2 until Ctrl-C.

    It accepts the key and secret in MAMMOTH_API_KEY and MAMMOTH_API_SECRET
    (default: sandbox / sandbox). A client needs them set too: it has no default.
    Faults are off unless asked for; they apply to /api/v2 only.

    \b
    Examples:
      exportctl sandbox serve --port 8765 --seed seed.yaml
      exportctl sandbox serve --port 8765 --throttle-rate 0.2 --retry-after 0.5
      exportctl sandbox serve --port 8765 --job-rate 1 --commit-then-fail-every 3

    \b
    Point exportctl at it with:
      MAMMOTH_API_KEY=sandbox MAMMOTH_API_SECRET=sandbox \\
      MAMMOTH_BASE_URL=http://127.0.0.1:8765/api/v2 exportctl plan -f exports.yaml
    """
    from reconciler.providers.mammoth.sandbox.app import create_app
    from reconciler.providers.mammoth.sandbox.seed import SeedError
    from reconciler.sandbox.config import SandboxConfig
    from reconciler.sandbox.server import bind_socket, run_forever

    try:
        app = create_app(db_path, SandboxConfig.from_env(**knobs), seed_file)
    except SeedError as error:
        raise ConfigError(f"{error}. Fix the seed file and start again.") from None
    except (OSError, sqlite3.Error) as error:  # a folder, or a file that is not SQLite
        raise ConfigError(
            f"Cannot open the sandbox database {db_path!r} ({type(error).__name__}: {error}). "
            "Pass a writable SQLite file path to --db."
        ) from None
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({error.strerror}). Choose another --port."
        ) from None
    bound_port = sock.getsockname()[1]
    source = (
        "MAMMOTH_API_KEY/MAMMOTH_API_SECRET"
        if os.environ.get("MAMMOTH_API_KEY")
        else ("the default sandbox/sandbox (MAMMOTH_API_KEY/MAMMOTH_API_SECRET unset)")
    )
    click.echo(
        f"Sandbox API listening on http://{host}:{bound_port}/api/v2 (data in {db_path}; "
        f"credentials from {source})"
    )
    run_forever(app, sock)
