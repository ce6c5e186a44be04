"""``exportctl apply``: make the platform match the manifest, or apply a saved plan.

A thin command: it loads inputs, plans (or checks a saved plan), asks for
approval, hands the plan to ``reconciler.apply.engine.apply_plan`` and renders
what came back. Exit 0 when everything applied, 1 otherwise.

Approval follows Terraform: without a saved plan, apply shows the plan and
asks on a terminal, and needs ``--auto-approve`` anywhere else; a saved plan
was reviewed when it was made, so applying it asks nothing, but it must still
fit (same manifest version, same secrets, live unchanged).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from shlex import quote
from typing import Any, TextIO

import click

from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.execute import ExecuteOptions
from reconciler.apply.result import ActionResult, ApplyResult, ScopeResult
from reconciler.apply.result_json import result_to_json
from reconciler.apply.saved import (
    check_endpoints,
    check_manifest_version,
    check_secrets,
    current_secrets,
    replay_saved_plan,
)
from reconciler.cli.ahead import planned_ahead
from reconciler.cli.options import (
    DEFAULT_SANDBOX_DB,
    color_option,
    connection_options,
    format_option,
    optional_manifest_option,
    selector_options,
)
from reconciler.cli.session import (
    JsonErrorCommand,
    json_on_error,
    load_desired,
    open_for,
    plan_live,
)
from reconciler.errors import ApplyRefusedError, ConfigError, ExportctlError
from reconciler.manifest import load_manifest
from reconciler.model import DesiredState, Scope, common_noun
from reconciler.plan import Plan
from reconciler.plan_json import plan_to_json
from reconciler.planfile import SavedPlan, load_plan, locate_sources
from reconciler.progress import Progress, make_progress
from reconciler.providers.base import Connection, Providers
from reconciler.render.apply_report import render_result_text
from reconciler.render.style import should_color
from reconciler.render.text import render_text

__all__ = ["NEEDS_APPROVAL", "apply"]

NEEDS_APPROVAL = (
    "apply needs approval, but stdin is not a terminal to ask on. Pass --auto-approve "
    "to apply without asking, or review a saved plan first: 'exportctl plan -f ... "
    "--out FILE', then 'exportctl apply FILE'."
)
CANCELLED = "Apply cancelled: only 'yes' approves. Nothing was changed."
NOTHING_SENT = "Apply interrupted before it sent anything: nothing was changed."
INTERRUPTED = (
    "Apply interrupted. Changes already sent may have been applied. Run 'exportctl plan' "
    "to see where things stand; applying again finishes the job without duplicates."
)
PROMPT = "Apply these changes? Only 'yes' is accepted."
STOPPING = (
    "Interrupted: the requests in flight will finish, nothing new is sent. "
    "Press Ctrl-C again (or send a second SIGTERM) to abort at once."
)
STOPPED = (
    "Apply interrupted: the changes listed as applied were sent and finished; the "
    "skipped ones were not sent. Run 'exportctl plan' to see what is left; applying "
    "again finishes the job."
)


@dataclass(frozen=True)
class _Inputs:
    """What the options say, checked for consistency.

    ``desired`` is ``None`` when the manifest ``files`` are loaded by the
    session itself, its listings leaving while they are checked (as ``plan``
    does: ``reconciler.cli.ahead``).
    """

    desired: DesiredState | None
    saved: SavedPlan | None
    planfile: str | None
    targets: tuple[str, ...]
    excludes: tuple[str, ...]
    files: tuple[str, ...] = ()


def _error_document(message: str, so_far: Sequence[ActionResult] = ()) -> str:
    """The result of an apply that stopped, with ``error``: the changes that finished
    before it stopped (``so_far``, in the order they finished), none if it stopped
    before or outside its changes."""
    scopes: dict[Scope, list[ActionResult]] = {}
    for action in so_far:
        scopes.setdefault(action.scope, []).append(action)
    result = ApplyResult(tuple(ScopeResult(scope, tuple(a)) for scope, a in scopes.items()))
    return _as_json(result_to_json(result, error=message))


class _Recording:
    """A ``Progress`` that also keeps each finished change, so that an apply cut short
    (the ``--timeout`` deadline, a second Ctrl-C) reports in JSON what it did."""

    def __init__(self, inner: Progress, finished: list[ActionResult]) -> None:
        self._inner = inner
        self._finished = finished

    def started(self, total: int) -> None:
        self._inner.started(total)

    def finished(self, result: ActionResult, done: int, total: int) -> None:
        self._finished.append(result)
        self._inner.finished(result, done, total)

    def waiting(self, jobs: int, seconds: float) -> None:
        self._inner.waiting(jobs, seconds)

    def close(self) -> None:
        self._inner.close()


@click.command("apply", cls=JsonErrorCommand, error_document=_error_document)
@click.argument("planfile", required=False, metavar="[PLANFILE]")
@optional_manifest_option
@connection_options
@selector_options
@click.option(
    "--auto-approve",
    is_flag=True,
    help="Apply without asking. Required when stdin is not a terminal, unless "
    "applying a saved plan.",
)
@click.option(
    "--max-deletes",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Refuse the whole apply if it would delete more than N exports (a replace deletes one).",
)
@click.option(
    "--job-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for each background job (a 202 answer) to finish.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first failure: work not yet started is skipped and reported.",
)
@format_option("text", "json")
@color_option
def apply(
    planfile: str | None,
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    auto_approve: bool,
    max_deletes: int | None,
    job_timeout: float,
    fail_fast: bool,
    output_format: str,
    color: bool | None,
) -> int:
    """Make the platform match the manifest (-f), or apply a saved PLANFILE.

    \b
    Examples:
      exportctl apply -f exports.yaml                # shows the plan, asks 'yes'
      exportctl apply -f exports.yaml --auto-approve # CI without a saved plan
      exportctl plan -f exports.yaml --out exportctl.plan && exportctl apply exportctl.plan
    """
    out = sys.stdout
    # A script reading stdout gets a document either way; stderr has the message.
    finished: list[ActionResult] = []  # filled as changes finish, for an error's document
    with json_on_error(output_format, lambda message: _error_document(message, finished)):
        inputs = _inputs(planfile, files, targets, excludes, sandbox_db)
        options = ApplyOptions(
            max_deletes=max_deletes,
            execute=ExecuteOptions(
                parallelism=parallelism, job_timeout=job_timeout, fail_fast=fail_fast
            ),
        )
        session = _Session(
            inputs=inputs,
            options=options,
            auto_approve=auto_approve,
            output_format=output_format,
            color=should_color(out, color),
            out=out,
            finished=finished,
        )
        try:
            result = asyncio.run(session.run(endpoint, sandbox_db, parallelism))
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM outside the writing (while planning): no bare "Aborted.",
            # and no "changes may have been sent" before any could be.
            click.echo(err=True)
            raise ExportctlError(INTERRUPTED if session.writing else NOTHING_SENT) from None
    if result is None:
        return 0
    _render(result, output_format, out, interrupted=session.interrupted)
    if session.interrupted:
        click.echo(STOPPED, err=True)
        return 1
    return 0 if result.ok else 1


def _inputs(
    planfile: str | None,
    files: tuple[str, ...],
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    sandbox_db: str | None,
) -> _Inputs:
    if planfile is not None and files:
        raise ConfigError(
            "Pass either -f MANIFEST or a saved PLANFILE, not both: a saved plan "
            "records the manifest files it was made from."
        )
    if planfile is None and not files:
        raise ConfigError(
            "Nothing to apply: pass -f MANIFEST (a file or directory), or a saved "
            "plan file written by 'exportctl plan --out FILE'."
        )
    if planfile is None and sandbox_db is None:
        return _Inputs(None, None, None, targets, excludes, files)
    if planfile is None:  # the embedded sandbox is made from the whole manifest: load it first
        return _Inputs(load_desired(files, targets, excludes), None, None, targets, excludes)
    if targets or excludes:
        raise ConfigError(
            "--target and --exclude cannot narrow a saved plan: it applies exactly "
            "what it showed. Pass them to 'exportctl plan --out' instead."
        )
    return _saved_inputs(planfile, sandbox_db)


def _saved_inputs(planfile: str, sandbox_db: str | None) -> _Inputs:
    """Load a saved plan and the manifest it records; refuse if either moved."""
    saved = load_plan(planfile, manifest_hint=_manifest_command(planfile, sandbox_db))
    desired = load_manifest(locate_sources(saved, planfile))
    check_manifest_version(saved, desired, planfile)
    covered = {sp.scope for sp in saved.plan.scopes}
    desired = replace(desired, scopes=tuple(s for s in desired.scopes if s.scope in covered))
    check_secrets(saved, current_secrets(desired), planfile)
    return _Inputs(desired, saved, planfile, (), ())


def _manifest_command(planfile: str, sandbox_db: str | None) -> str:
    """The command to suggest when PLANFILE is a manifest: this one, with -f and the
    same sandbox, so it runs as it is written."""
    sandbox = ""
    if sandbox_db == DEFAULT_SANDBOX_DB:
        sandbox = " --sandbox"
    elif sandbox_db is not None:
        sandbox = f" --sandbox={quote(sandbox_db)}"
    return f"exportctl apply -f {quote(planfile)}{sandbox}"


@dataclass
class _Session:
    """One apply run against the providers of its manifest."""

    inputs: _Inputs
    options: ApplyOptions
    auto_approve: bool
    output_format: str
    color: bool
    out: TextIO
    finished: list[ActionResult] = field(default_factory=list)
    interrupted: bool = False
    writing: bool = False  # set once the plan is handed to the engine, which may send

    async def run(
        self, endpoint: str | None, sandbox_db: str | None, parallelism: int
    ) -> ApplyResult | None:
        """The apply's result, or ``None`` when there was nothing to do."""
        async with self._planned(endpoint, sandbox_db, parallelism) as (desired, plan, providers):
            if not plan.has_changes:
                noun = common_noun(spec.scope for spec in desired.scopes)
                self._say(f"No changes. The live {noun}s already match the manifest.")
                return None
            # A saved plan was reviewed when it was made: it needs no second approval.
            approve = self._approve if self.inputs.saved is None else None
            progress = _Recording(make_progress(self._progress_stream()), self.finished)
            interrupt = asyncio.Event()
            self.writing = True
            try:
                with _first_stop_signal_stops(interrupt):
                    result = await apply_plan(
                        providers,
                        plan,
                        options=self.options,
                        progress=progress,
                        approve=approve,
                        interrupt=interrupt,
                    )
            except asyncio.CancelledError:
                # A second Ctrl-C (or asyncio.run's own) cancels the task; a bare
                # "Aborted." would leave the user guessing what was changed.
                raise ExportctlError(INTERRUPTED) from None
            self.interrupted = interrupt.is_set()
            return result

    @asynccontextmanager
    async def _planned(
        self, endpoint: str | None, sandbox_db: str | None, parallelism: int
    ) -> AsyncIterator[tuple[DesiredState, Plan, Providers]]:
        """The desired state, the plan to apply, and the providers, open until the end."""
        inputs = self.inputs
        if inputs.desired is None:
            connection = Connection(endpoint=endpoint, parallelism=parallelism)
            async with planned_ahead(
                inputs.files, inputs.targets, inputs.excludes, connection
            ) as planned:
                yield planned
            return
        async with open_for(inputs.desired, endpoint, sandbox_db, parallelism) as providers:
            if inputs.saved is not None and inputs.planfile is not None:
                check_endpoints(inputs.saved, providers.endpoints(), inputs.planfile)
            fresh = await plan_live(providers, inputs.desired, inputs.targets, inputs.excludes)
            if inputs.saved is not None and inputs.planfile is not None:
                fresh = replay_saved_plan(inputs.saved, fresh, inputs.planfile)
            yield inputs.desired, fresh, providers

    def _approve(self, plan: Plan) -> None:
        stream = self._progress_stream()
        stream.write(render_text(plan_to_json(plan), color=self.color))
        stream.flush()
        if self.auto_approve:
            return
        approve(interactive=_stdin_is_terminal(), ask=lambda: _ask(err=stream is sys.stderr))

    def _progress_stream(self) -> TextIO:
        """Text mode writes everything to stdout; JSON mode keeps stdout for the JSON."""
        return sys.stderr if self.output_format == "json" else self.out

    def _say(self, line: str) -> None:
        if self.output_format == "json":
            self.out.write(_as_json(result_to_json(ApplyResult(()))))
        else:
            self.out.write(line + "\n")


# Ctrl-C, and what CI runners and schedulers send to cancel a job (GitLab, a
# Kubernetes CronJob; GitHub Actions after its SIGINT): each stops an apply
# gracefully the first time.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _first_stop_signal_stops(interrupt: asyncio.Event) -> Iterator[None]:
    """The first Ctrl-C or SIGTERM sets ``interrupt`` (nothing new is sent, requests
    in flight finish, the report says what was sent); the second cancels the
    apply at once. Killed by a SIGTERM's default action, an apply would end
    silently with changes sent and none reported.

    # Limitation: only where the event loop can take signals (the main thread
    # on POSIX); elsewhere the first Ctrl-C cancels, and SIGTERM kills, as before.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def second() -> None:
        if task is not None:
            task.cancel()

    def first() -> None:
        interrupt.set()
        click.echo(f"\n{STOPPING}", err=True)
        for number in _STOP_SIGNALS:
            loop.add_signal_handler(number, second)

    try:
        for number in _STOP_SIGNALS:
            loop.add_signal_handler(number, first)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        for number in _STOP_SIGNALS:
            loop.remove_signal_handler(number)


def approve(*, interactive: bool, ask: Callable[[], str]) -> None:
    """Go on only on an explicit 'yes' typed at a terminal.

    The prompt runs inside ``asyncio.run``, whose SIGINT handler only cancels
    the task: a blocking read never notices, so Ctrl-C did nothing until a
    second press. Python's own handler is restored while asking, so the first
    Ctrl-C aborts at once.
    """
    if not interactive:
        raise ApplyRefusedError(NEEDS_APPROVAL)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        answer = ask()
    except click.Abort:  # Ctrl-C or Ctrl-D: no 'yes' either, and nothing was sent yet
        click.echo(err=True)  # end the prompt's line
        raise ApplyRefusedError(CANCELLED) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    if answer.strip() != "yes":
        raise ApplyRefusedError(CANCELLED)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(*, err: bool) -> str:
    """Prompt where the plan went: with --format json, stdout holds only the JSON."""
    answer: str = click.prompt(
        f"\n{PROMPT}\n  Enter a value", default="", show_default=False, err=err
    )
    return answer


def _render(result: ApplyResult, output_format: str, out: TextIO, *, interrupted: bool) -> None:
    data: dict[str, Any] = result_to_json(result)
    if output_format == "json":
        out.write(_as_json(data))
    else:
        out.write(render_result_text(data, interrupted=interrupted))


def _as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"
