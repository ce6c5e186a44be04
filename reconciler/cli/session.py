"""The flow every planning command shares: manifest in, providers open, plan out.

``plan``, ``drift`` and ``apply`` all load the manifest, narrow it with
``--target``/``--exclude``, list the live resources of the scopes left, and
plan. Keeping that flow here means the three commands can never disagree on
what "the plan" is; each command only renders it and picks its exit code.
``plan`` and ``drift`` only read, so they run the whole flow in one call,
``load_and_plan``; ``apply`` runs its steps around the providers it then
applies with.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import (
    AbstractContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from reconciler import redaction
from reconciler.cli.deadline import last_words, misplaced_timeout
from reconciler.cli.options import manifest_sources
from reconciler.diagnostics import Diagnostic
from reconciler.errors import ConfigError, ExportctlError
from reconciler.live import fetch_live
from reconciler.manifest import load_manifest
from reconciler.manifest.files import ManifestText
from reconciler.manifest.loader import OnScopesAhead
from reconciler.model import DesiredState, LiveScope, Scope, common_noun
from reconciler.plan import Plan, ScopePlan
from reconciler.planner import plan_scope
from reconciler.progress import StatusLine
from reconciler.providers import factory
from reconciler.providers.base import Connection, Provider, Providers
from reconciler.selectors import select_plan, select_scopes

if TYPE_CHECKING:
    from reconciler.cli.plan_preflight import PreflightVerdict

__all__ = [
    "INTERRUPTED",
    "JsonErrorCommand",
    "Planned",
    "json_on_error",
    "load_and_plan",
    "load_desired",
    "on_error",
    "open_for",
    "plan_live",
    "show_warning",
    "with_preflight",
]

INTERRUPTED = "Interrupted: nothing was changed."


def load_desired(
    files: Sequence[str | ManifestText],
    targets: Sequence[str],
    excludes: Sequence[str],
    on_scopes_ahead: OnScopesAhead | None = None,
) -> DesiredState:
    """The manifest narrowed to the scopes the selectors can involve.

    Selectors are parsed here, before any request, so a typo fails fast. The
    manifest's warnings are shown on stderr, as ``validate`` shows them.
    ``files`` may hold standard input's text already read (``manifest_sources``).
    """
    desired = load_manifest(
        manifest_sources(files), on_warning=show_warning, on_scopes_ahead=on_scopes_ahead
    )
    return select_scopes(desired, targets, excludes)


def show_warning(warning: Diagnostic) -> None:
    """A valid manifest's warning, on stderr where ``validate`` shows it too."""
    click.echo(str(warning), err=True)


@asynccontextmanager
async def open_for(
    desired: DesiredState,
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
    opened_ahead: Mapping[str, Provider] | None = None,
) -> AsyncIterator[Providers]:
    """The open providers of ``desired``, for the APIs the options name (or the sandbox).

    ``--endpoint`` names one API, so it is refused for a manifest that uses
    several providers: each provider's own base-URL variable says where it is.
    ``opened_ahead`` are providers already open (``reconciler.cli.ahead``),
    used as they are and left to their opener to close.
    """
    ahead = opened_ahead or {}
    names = desired.providers()
    if endpoint is not None and len(names) > 1:
        raise ConfigError(
            f"--endpoint names one API, but the manifest uses {len(names)} providers "
            f"({', '.join(names)}). Leave it out and set each provider's base URL in its "
            "environment variable instead (see `exportctl providers`)."
        )
    connection = Connection(endpoint=endpoint, sandbox_db=sandbox_db, parallelism=parallelism)
    redaction.watch(desired)  # a server may echo them in what it says back
    async with AsyncExitStack() as stack:
        opened = dict(ahead)
        for name in names:
            if name not in opened:
                unopened = factory(name).open(connection, desired)
                opened[name] = await stack.enter_async_context(unopened)
        yield Providers(opened, sandbox=sandbox_db)


async def plan_live(
    providers: Providers,
    desired: DesiredState,
    targets: Sequence[str],
    excludes: Sequence[str],
    started: Mapping[Scope, Awaitable[LiveScope]] | None = None,
) -> Plan:
    """List the live resources of ``desired``'s scopes and plan, narrowed by the selectors.

    The same plan as ``make_plan(desired, fetch_live(...))``, but each scope is
    planned as soon as its listing arrives: planning is pure CPU, and this way
    it overlaps with the requests still waiting on the network. ``providers``
    must already be open; they stay open. ``started`` are listings already
    under way (``reconciler.cli.ahead``).
    """
    specs = {spec.scope: spec for spec in desired.scopes}
    planned: dict[Scope, ScopePlan] = {}
    status = StatusLine(sys.stderr)
    noun = common_noun(specs, of_resources=False)

    def plan_as_listed(live: LiveScope) -> None:
        planned[live.scope] = plan_scope(specs[live.scope], live)
        status.show(f"Listing... {len(planned)}/{len(specs)} {noun}s")

    await fetch_live(providers, list(specs), on_listed=plan_as_listed, started=started)
    status.close()
    plan = Plan(tuple(planned[scope] for scope in specs), manifest_digest=desired.digest)
    return select_plan(plan, targets, excludes)


@dataclass(frozen=True, repr=False)
class Planned:
    """What ``load_and_plan`` made: the narrowed manifest, its plan, and the
    server's verdict on its writes when ``preflight`` was asked for.

    Trick (speed): no dataclass repr. ``asyncio.run`` in Python 3.11 formats
    its main task's repr, result included, while it restores the SIGINT
    handler; a generated repr of a 10,000-change plan took 0.2-0.3 s there.
    Both ways of planning return this from their main coroutine.
    """

    desired: DesiredState
    plan: Plan
    preflight: PreflightVerdict | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)  # by provider, for --out


def load_and_plan(
    files: Sequence[str],
    *,
    targets: Sequence[str],
    excludes: Sequence[str],
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
    preflight: bool = False,
) -> Planned:
    """``load_desired`` then ``plan_live``, for commands that only read.

    It opens the providers and closes them again; ``desired`` comes back too,
    for ``plan --out`` to hash the secrets the plan relies on. ``preflight``
    also sends the plan's writes as dry runs, which change nothing. Against
    real APIs the listings leave while the manifest is still being checked
    (``reconciler.cli.ahead``).

    Ctrl-C ends it with ``INTERRUPTED``, an error like any other, rather than
    click's bare "Aborted.": these commands only read, so the user can be
    told nothing was changed, and ``--format json`` still gets its document.
    """
    with _nothing_changed_on_ctrl_c():
        if sandbox_db is None:
            from reconciler.cli.ahead import load_and_plan_ahead  # it builds on this module

            connection = Connection(endpoint=endpoint, parallelism=parallelism)
            return asyncio.run(
                load_and_plan_ahead(files, targets, excludes, connection, preflight=preflight)
            )
        desired = load_desired(files, targets, excludes)

        async def run() -> Planned:
            async with open_for(desired, endpoint, sandbox_db, parallelism) as providers:
                plan = await plan_live(providers, desired, targets, excludes)
                return await with_preflight(providers, desired, plan, preflight)

        return asyncio.run(run())


@contextmanager
def _nothing_changed_on_ctrl_c() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        click.echo(err=True)  # end the line the terminal's ^C was echoed on
        raise ExportctlError(INTERRUPTED) from None


async def with_preflight(
    providers: Providers, desired: DesiredState, plan: Plan, preflight: bool
) -> Planned:
    """The plan made, with the server's verdict on its writes when ``preflight`` asks."""
    endpoints = providers.endpoints()
    if not preflight:
        return Planned(desired, plan, None, endpoints)
    from reconciler.cli.plan_preflight import check_writes  # the apply engine: only if asked

    return Planned(desired, plan, await check_writes(providers, plan), endpoints)


@contextmanager
def on_error(say: Callable[[str], None]) -> Iterator[None]:
    """``say`` hears the message of an error that ends the command inside, then it ends.

    The ``--timeout`` deadline ends the process without raising, so ``say``
    is told its message too (``reconciler.cli.deadline.last_words``).
    """
    with last_words(say):
        try:
            yield
        except ExportctlError as error:
            say(error.message)
            raise


def json_on_error(
    output_format: str, document: Callable[[str], str]
) -> AbstractContextManager[None]:
    """With ``--format json``, a failing command still prints a document on stdout.

    ``document`` turns the error's message into that document's text (a plan,
    a drift report); the message goes to stderr as usual, so a script reading
    stdout and a person reading the log both learn what went wrong. Wrap only
    the part before the command writes its own document: stdout must hold one.
    """
    if output_format != "json":
        return nullcontext()
    return on_error(lambda message: _print(document(message)))


def _print(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()  # the deadline ends the process with os._exit, which flushes nothing


class JsonErrorCommand(click.Command):
    """A command with ``--format json`` that keeps its promise for a mistake in its arguments.

    Such a mistake (a bad ``--sandbox`` value, an unknown option) is found
    while click parses them, before the command's own ``json_on_error`` runs,
    and before ``--format`` itself may have been read. So the arguments are
    read again, leniently, only to learn whether JSON was asked for.
    ``error_document`` is the command's own ``json_on_error`` document.
    """

    def __init__(self, *args: Any, error_document: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_document = error_document

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        given = list(args)  # click's parser consumes the list it is given
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            clearer = misplaced_timeout(error, given)
            self._say_in_json(clearer.format_message(), given, parent)
            if clearer is error:
                raise
            raise clearer from None
        except ExportctlError as error:
            self._say_in_json(error.message, given, parent)
            raise

    def _say_in_json(self, message: str, args: list[str], parent: click.Context | None) -> None:
        if self._asks_for_json(args, parent):
            _print(self.error_document(message))

    def _asks_for_json(self, args: list[str], parent: click.Context | None) -> bool:
        """Whether ``args`` say ``--format json``, read by click's own parser so every
        spelling counts (``--format=json``, the last of two), unknown options ignored."""
        ctx = self.context_class(
            self, info_name=self.name, parent=parent, ignore_unknown_options=True
        )
        try:
            opts, _, _ = self.make_parser(ctx).parse_args(args=list(args))
        except click.UsageError:  # e.g. --format with no value: no JSON was asked for
            return False
        return bool(opts.get("output_format") == "json")
