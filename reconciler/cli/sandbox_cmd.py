"""``exportctl sandbox serve``: run every provider's sandbox API on one port."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import DEFAULT_SANDBOX_DB
from reconciler.errors import ConfigError

__all__ = ["sandbox"]

_RATE = click.FloatRange(0, 1)
_NON_NEGATIVE = click.FloatRange(min=0)


@click.group()
def sandbox() -> None:
    """Run a local server that behaves like the platforms' APIs, for trying and testing."""


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
    help="SQLite file holding the sandbox's data (a provider may keep its own file beside "
    "it); created if missing, kept across runs.",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="YAML of data to create; each provider reads its own keys (Mammoth: connections "
    "and dataviews, with their existing exports).",
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
    default=1,
    show_default=True,
    help="Share of changes answered 202 with a job (as Mammoth does) instead of done at once.",
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
    "--ignore-idempotency-keys",
    is_flag=True,
    help="Run every keyed write again on a retry (no Idempotency-Key echo), like a server "
    "without key support.",
)
@click.option(
    "--fault-seed",
    "seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the fault dice: same seed, same requests, same faults.",
)
def serve(host: str, port: int, db_path: str, seed_file: Path | None, **knobs: Any) -> None:
    """Serve every provider's sandbox API on http://HOST:PORT until Ctrl-C.

    Each API answers under its real path prefix with its own auth scheme
    (the listing says which credentials each accepts; none needs a real
    account). Faults are off unless asked for; they apply to the APIs, not
    to the sandbox's admin routes under /_sandbox.

    \b
    Examples:
      exportctl sandbox serve --port 8765 --seed seed.yaml
      exportctl sandbox serve --port 8765 --throttle-rate 0.2 --retry-after 0.5
      exportctl sandbox serve --port 8765 --job-rate 0 --commit-then-fail-every 3

    \b
    Point exportctl at it, e.g. for Mammoth:
      MAMMOTH_API_KEY=sandbox MAMMOTH_API_SECRET=sandbox \\
      MAMMOTH_BASE_URL=http://127.0.0.1:8765/api/v2 exportctl plan -f exports.yaml
    """
    from reconciler.providers import factory, provider_names
    from reconciler.sandbox.clock import SandboxClock
    from reconciler.sandbox.combined import combined_app
    from reconciler.sandbox.config import SandboxConfig
    from reconciler.sandbox.server import bind_socket, run_forever

    config, clock = SandboxConfig(**knobs), SandboxClock()
    parts = []
    for name in provider_names():
        try:
            parts.append(factory(name).sandbox(Path(db_path), config, clock, seed_file))
        except (OSError, sqlite3.Error) as error:  # a folder, or a file that is not SQLite
            raise ConfigError(
                f"Cannot open the sandbox database {db_path!r} ({type(error).__name__}: "
                f"{error}). Pass a writable SQLite file path to --db."
            ) from None
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({error.strerror}). Choose another --port."
        ) from None
    root = f"http://{host}:{sock.getsockname()[1]}"
    click.echo(f"Sandbox listening on {root} (data in {db_path}):")
    for part in parts:
        click.echo(f"  {part.describe(root)}")
    try:
        run_forever(combined_app(parts), sock)
    finally:
        for part in parts:
            part.close()
