"""Options shared by several commands, as reusable decorators.

Defining each option once keeps its name, default and help identical on every
command that takes it (pip-tools' ``scripts/options.py`` habit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.errors import ConfigError
from reconciler.manifest.files import ManifestText

if TYPE_CHECKING:
    from reconciler.sandbox.files import NotADatabase

__all__ = [
    "DEFAULT_PARALLELISM",
    "DEFAULT_SANDBOX_DB",
    "color_option",
    "connection_options",
    "format_option",
    "import_connection_options",
    "manifest_option",
    "manifest_sources",
    "optional_manifest_option",
    "planning_options",
    "selector_options",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SANDBOX_DB = ".exportctl/sandbox.db"
DEFAULT_PARALLELISM = 8


def manifest_option(command: F) -> F:
    """-f/--file, required: the manifest files or directories to read."""
    return _manifest_files(required=True, extra_help="")(command)


def optional_manifest_option(command: F) -> F:
    """-f/--file for commands that can take their manifest from elsewhere (a saved plan)."""
    return _manifest_files(
        required=False,
        extra_help=" Not with PLANFILE, which records its own manifest files.",
    )(command)


def _manifest_files(*, required: bool, extra_help: str) -> Callable[[F], F]:
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        required=required,
        type=click.Path(exists=True, dir_okay=True, readable=True, allow_dash=True),
        metavar="PATH",
        help="Manifest file, or a directory whose *.yaml/*.yml files are read in "
        "sorted order, or - for standard input. Repeat to combine several." + extra_help,
    )


STDIN = "-"
STDIN_NAME = "<stdin>"


def manifest_sources(files: Sequence[str | ManifestText]) -> list[str | ManifestText]:
    """What ``-f`` names, for the loader: ``-`` becomes standard input's text, read once.

    Messages then name it ``<stdin>`` (``<stdin>:3:5: ...``), as compilers do. A
    text already read passes through, so the sources can be made once, early.
    """
    if list(files).count(STDIN) > 1:
        raise ConfigError("-f - (standard input) can be given only once: it is read once.")
    return [ManifestText(STDIN_NAME, sys.stdin.buffer.read()) if f == STDIN else f for f in files]


_SANDBOX_HELP = (
    f"Use the embedded sandbox API, stored in DB (default {DEFAULT_SANDBOX_DB}); "
    "needs no credentials"
)
_SANDBOX_SEED_HELP = (
    " Set EXPORTCTL_SANDBOX_SEED=FILE to start it from a 'sandbox serve --seed' file, so "
    "it refuses what that server refuses (e.g. unknown connections)."
)


def connection_options(command: F) -> F:
    """--endpoint, --sandbox and --parallelism of the commands that read a manifest.

    Their manifest may mix providers, so the help speaks of "the provider's own
    variable"; one provider's ``import`` uses ``import_connection_options``.
    """
    return _connection_options(
        endpoint_help="Base URL of the API, instead of the one the provider's own variable "
        "names (e.g. MAMMOTH_BASE_URL); only for a manifest of one provider. Credentials "
        "come from each provider's environment variables only.",
        sandbox_help=f"{_SANDBOX_HELP} and creates what the manifest names (e.g. dataviews) "
        f"on first use.{_SANDBOX_SEED_HELP}",
        parallelism_help="Requests in flight at once (and scopes, e.g. dataviews, worked on "
        "at once).",
    )(command)


def import_connection_options(
    *, base_url_variable: str, sandbox_lists: str, seedable: bool = False
) -> Callable[[F], F]:
    """The connection options of one provider's ``import``, in that provider's words.

    Import reads no manifest and speaks to one provider, so --endpoint names
    that provider's ``base_url_variable`` (not Mammoth's as an example), and
    --sandbox says what import finds there (``sandbox_lists``, a sentence)
    instead of what a manifest would create. ``seedable``: the provider's
    sandbox reads EXPORTCTL_SANDBOX_SEED.
    """
    return _connection_options(
        endpoint_help=f"Base URL of the API, instead of the one {base_url_variable} gives. "
        "Credentials come from environment variables only.",
        sandbox_help=f"{_SANDBOX_HELP}. {sandbox_lists}" + (_SANDBOX_SEED_HELP if seedable else ""),
        parallelism_help="Requests in flight at once.",
    )


def _connection_options(
    *, endpoint_help: str, sandbox_help: str, parallelism_help: str
) -> Callable[[F], F]:
    """The three options, with the given help: their names, types and defaults are the
    same on every command."""

    def decorate(command: F) -> F:
        command = click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=DEFAULT_PARALLELISM,
            show_default=True,
            help=parallelism_help,
        )(command)
        command = click.option(
            "--sandbox",
            "sandbox_db",
            is_flag=False,
            flag_value=DEFAULT_SANDBOX_DB,
            default=None,
            callback=_checked_sandbox_db,
            metavar="[DB]",
            help=sandbox_help,
        )(command)
        return click.option("--endpoint", metavar="URL", help=endpoint_help)(command)

    return decorate


def _checked_sandbox_db(ctx: click.Context, param: click.Parameter, db: str | None) -> str | None:
    """Refuse a --sandbox value that is a plan, a manifest or any other non-SQLite file.

    Checked while the options are parsed, the one step every command goes
    through, so the mistake is named before the command complains about what
    then seems missing (``apply --sandbox plan.json`` has no PLANFILE left).
    """
    if db is None:
        return None
    # Imported here: validate and show take no --sandbox and need not load httpx.
    from reconciler.sandbox.files import not_a_sandbox_db

    found = not_a_sandbox_db(db)
    if found is None:
        return db
    raise ConfigError(
        f"--sandbox was given {db!r}, which {found.value}, so it cannot be the sandbox "
        "database. --sandbox takes an optional DB path, so the argument after it was "
        f"read as the database. {_sandbox_advice(ctx, db, found)}To name a sandbox "
        f"database, write --sandbox=DB. {db} was left unchanged."
    )


def _sandbox_advice(ctx: click.Context, db: str, found: NotADatabase) -> str:
    from reconciler.sandbox.files import NotADatabase

    if found is NotADatabase.SAVED_PLAN:
        return (
            "To apply a saved plan against the sandbox, put the plan first: "
            f"'exportctl apply {db} --sandbox'. "
        )
    takes_manifests = any(param.name == "files" for param in ctx.command.params)
    if takes_manifests and found in (NotADatabase.MANIFEST, NotADatabase.DIRECTORY):
        return f"Pass manifests with -f: 'exportctl {ctx.info_name} -f {db} --sandbox'. "
    return ""


def selector_options(command: F) -> F:
    """--target and --exclude, the two halves of narrowing a run."""
    command = click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="SELECTOR",
        help="Leave out matching dataviews or exports (same forms as --target); "
        "wins over --target. Repeatable.",
    )(command)
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="SELECTOR",
        help="Only these dataviews or exports: dataview=456, dataview=1/1/123/456, "
        "dataview=456/monthly-sales, key=monthly-sales, handler=s3. Repeatable; "
        "an export matching any --target is kept.",
    )(command)


def planning_options(*own: Callable[[F], F]) -> Callable[[F], F]:
    """The options of the read-only commands that plan a manifest (``plan``, ``drift``).

    One decorator, so the two take the same inputs the same way and a flag
    added to planning reaches both. The command's ``own`` options are listed
    after -f/--file, then --target/--exclude, the connection options and
    --color: the order ``--help`` shows them in.
    """
    listed: tuple[Callable[[F], F], ...] = (
        manifest_option,
        *own,
        selector_options,
        connection_options,
        color_option,
    )

    def decorate(command: F) -> F:
        # click lists options in reverse order of application: apply the last first.
        for option in reversed(listed):
            command = option(command)
        return command

    return decorate


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def color_option(command: F) -> F:
    return click.option(
        "--color/--no-color",
        default=None,
        help="Force colour on or off. Default: colour on a terminal unless NO_COLOR is set.",
    )(command)


def import_out_option(command: F) -> F:
    """--out FILE of every provider's ``import``: a new file, never one already there.

    Checked while the options are parsed, before anything is listed, so a
    long import never ends in "already exists".
    """
    return click.option(
        "--out",
        "out_path",
        type=click.Path(dir_okay=False, writable=True),
        callback=_new_file,
        metavar="FILE",
        help="Write the manifest to FILE (refused if it exists) instead of stdout.",
    )(command)


def _new_file(ctx: click.Context, param: click.Parameter, path: str | None) -> str | None:
    if path is not None and Path(path).exists():
        raise ConfigError(
            f"{path} already exists; import writes only new files. "
            "Choose another path, or move the file away first."
        )
    return path


def write_manifest(text: str, out_path: str | None) -> None:
    """An imported manifest to ``out_path``, or to stdout when there is none."""
    if out_path is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out_path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot write {out_path}: {error.strerror}.") from None
