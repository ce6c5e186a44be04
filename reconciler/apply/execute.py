"""Carry out a plan: scopes in parallel, each scope's steps in order.

Each scope runs its steps (``steps.order_steps``) one after another; when one
fails, the rest of that scope is skipped (later steps may depend on it: a
replace's add needs its delete, an add may need the destination a delete
frees, a snapshot's prune must wait for its fresh run), while other scopes
carry on, unless ``fail_fast`` asks everything still waiting to be skipped. A
rerun then plans only what is left.

Every write goes through ``_send``, the one place that decides whether to
send again: a job is followed through its provider's ``JobWaiter``; an answer
lost after sending (``MaybeLandedError``) is checked against a fresh listing
(``landed``) before the request is sent again, so a retried add can never
become a second resource, nor a retried run a second run. The providers do
the talking; what one needs after a write (Mammoth: suspend or restore) comes
back as follow-ups, sent the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.apply import landed
from reconciler.apply.jobs import JobWaiter
from reconciler.apply.result import ActionResult, Failure, Outcome, ScopeResult
from reconciler.apply.steps import Phase, Step, order_steps
from reconciler.apply.verify import Checked, WriteRecord, check_writes
from reconciler.errors import (
    ApiError,
    ExportctlError,
    JobFailedError,
    MaybeLandedError,
    NotFoundError,
)
from reconciler.identity import applied_digest, spec_digest
from reconciler.kinds import ResourceKind
from reconciler.model import DesiredResource, ListedResource, LiveRun, Scope, SnapshotSpec
from reconciler.plan import Action, Change, Plan, ScopePlan
from reconciler.progress import Progress
from reconciler.providers.base import JobState, Providers, Written

__all__ = ["ExecuteOptions", "Salts", "execute"]

# The marker salt of each change that writes one, by (scope, key); the same
# salt is used by preflight and by every resend, so "did it land?" can look
# for the exact ``applied`` value.
Salts = Mapping[tuple[Scope, str], str]

SKIPPED_AFTER_FAILURE = "skipped: an earlier change to this scope failed"
SKIPPED_FAIL_FAST = "skipped: --fail-fast stopped the run after a failure"
SKIPPED_INTERRUPTED = "skipped: interrupted (Ctrl-C or SIGTERM) before it was sent"


@dataclass(frozen=True)
class ExecuteOptions:
    """How hard and how long to try."""

    parallelism: int = 8  # scopes worked on at once
    job_timeout: float = 300.0  # seconds one job may take
    poll_interval: float = 0.5  # seconds between job polls
    fail_fast: bool = False
    max_sends: int = 5  # sends of one mutation whose answers were lost (looked for between)
    # After a lost answer to a run, how long to keep looking for it before
    # starting it again: the lost answer may have been a 202 whose job has not
    # begun yet. (An add is looked for once and sent again at once: the check
    # after the scope, ``verify``, removes a late copy or says it may come.)
    landed_grace: float = 2.0


@dataclass(frozen=True)
class _Done:
    """One finished step: its part of the progress message and what it produced."""

    text: str
    resource_id: str | None = None
    job_id: str | None = None
    written: WriteRecord | None = None  # an add or edit, for the check after the scope


@dataclass(frozen=True)
class _Sent:
    """A write that took effect: the answer (and its job), or the evidence it landed."""

    written: Written | None
    job: JobState | None
    found_id: str | None = None  # set when the answer was lost and a listing confirmed it
    unanswered: int = 0  # sends that got no answer at all and no listing showed
    refused_copy: bool = False  # refused as a second copy of what ``found_id`` holds

    @property
    def resource_id(self) -> str | None:
        if self.found_id is not None:
            return self.found_id
        if self.job is not None and self.job.resource_id is not None:
            return self.job.resource_id
        return self.written.resource_id if self.written else None

    @property
    def job_id(self) -> str | None:
        return self.written.job_id if self.written else None

    @property
    def note(self) -> str:
        if self.refused_copy:
            return (
                " (the server refused a second copy: an earlier send whose answer was "
                "lost, or another apply at the same time, had written it)"
            )
        if self.found_id is not None:
            return " (the answer was lost; the listing shows it landed)"
        # A run followed under its own id (Domo's exports) needs no "via job" of the same id.
        job_id = self.job_id
        return f" via job {job_id}" if job_id is not None and job_id != self.resource_id else ""


class _Run:
    """What every scope of one apply shares: providers, jobs, progress, the stop flag."""

    def __init__(
        self,
        providers: Providers,
        salts: Salts,
        options: ExecuteOptions,
        progress: Progress,
        total: int,
        interrupt: asyncio.Event | None = None,
    ) -> None:
        self.providers = providers
        self.interrupt = interrupt or asyncio.Event()
        self.salts = salts
        self.options = options
        self.progress = progress
        self.total = total
        self.done = 0
        self.stop = asyncio.Event()
        # Job ids are each provider's own: one waiter per provider.
        self.waiters = {
            name: JobWaiter(
                providers.named(name).poll_jobs,
                timeout=options.job_timeout,
                poll_interval=options.poll_interval,
                on_wait=progress.waiting,
            )
            for name in providers
        }
        self.slots = asyncio.Semaphore(options.parallelism)

    def report(self, result: ActionResult) -> None:
        self.done += 1
        self.progress.finished(result, self.done, self.total)

    async def close(self) -> None:
        for waiter in self.waiters.values():
            await waiter.close()


async def execute(
    providers: Providers,
    plan: Plan,
    salts: Salts,
    *,
    options: ExecuteOptions,
    progress: Progress,
    interrupt: asyncio.Event | None = None,
) -> tuple[ScopeResult, ...]:
    """Apply every change of ``plan``; returns the results in plan order.

    Once ``interrupt`` is set (the CLI's first Ctrl-C) nothing new is sent:
    requests in flight finish, and every change not yet started is skipped.
    """
    total = sum(1 for _, change in plan.changes() if change.action.is_change)
    run = _Run(providers, salts, options, progress, total, interrupt)
    progress.started(total)
    try:
        return tuple(await asyncio.gather(*(_run_scope(run, sp) for sp in plan.scopes)))
    finally:
        await run.close()
        progress.close()


async def _run_scope(run: _Run, scope_plan: ScopePlan) -> ScopeResult:
    async with run.slots:
        return await _ScopeRun(run, scope_plan).go()


class _ScopeRun:
    """The steps of one scope, one after another."""

    def __init__(self, run: _Run, scope_plan: ScopePlan) -> None:
        self.run = run
        self.scope = scope_plan.scope
        self.noun = self.scope.resource_noun
        self.scope_plan = scope_plan
        self.waiter = run.waiters[self.scope.provider]
        self.results: dict[int, ActionResult] = {}
        self.partial: dict[int, list[_Done]] = {}
        self.written: dict[int, WriteRecord] = {}
        self.failed = False

    async def go(self) -> ScopeResult:
        index = {id(change): i for i, change in enumerate(self.scope_plan.changes)}
        for step in order_steps(self.scope_plan):
            i = index[id(step.change)]
            if i not in self.results:
                await self._take(i, step)
        if self.written:
            await self._verify()
        return ScopeResult(self.scope, tuple(self.results[i] for i in sorted(self.results)))

    async def _take(self, i: int, step: Step) -> None:
        if self.run.interrupt.is_set():
            self._finish(i, step.change, Outcome.SKIPPED, SKIPPED_INTERRUPTED)
            return
        if self.failed or self.run.stop.is_set():
            reason = SKIPPED_AFTER_FAILURE if self.failed else SKIPPED_FAIL_FAST
            self._finish(i, step.change, Outcome.SKIPPED, reason)
            return
        try:
            done = await self._do(step)
        except ExportctlError as error:
            self._fail(i, step.change, error)
            return
        self.partial.setdefault(i, []).append(done)
        if done.written is not None:
            self.written[i] = done.written
        if step.is_last_of_change:
            parts = self.partial[i]
            message = ", then ".join(p.text for p in parts)
            self._finish(i, step.change, Outcome.APPLIED, message, parts[-1])

    def _fail(self, i: int, change: Change, error: ExportctlError) -> None:
        self.failed = True
        if self.run.options.fail_fast:
            self.run.stop.set()
        before = "".join(f"{p.text}, then " for p in self.partial.get(i, []))
        message = f"{before}failed: {error.message}"
        self._finish(i, change, Outcome.FAILED, message, failure=Failure.of(error))

    def _finish(
        self,
        i: int,
        change: Change,
        outcome: Outcome,
        message: str,
        done: _Done | None = None,
        *,
        failure: Failure | None = None,
    ) -> None:
        result = ActionResult(
            scope=self.scope,
            key=change.key,
            action=change.action,
            type=change.desired.type if change.desired else change.type,
            outcome=outcome,
            message=message,
            resource_id=done.resource_id if done else change.resource_id,
            job_id=done.job_id if done else None,
            failure=failure,
        )
        self.results[i] = result
        self.run.report(result)

    async def _do(self, step: Step) -> _Done:
        change = step.change
        if step.phase is Phase.RUN:
            return await self._run_snapshot(change, _snapshot(change))
        if step.phase is Phase.DELETE:
            return await self._delete(change)
        spec = _desired(change)
        if step.phase is Phase.ADD:
            return await self._add(spec)
        return await self._edit(change, spec, _listed(change))

    # -- the steps ------------------------------------------------------------

    async def _delete(self, change: Change) -> _Done:
        live = _live(change)
        resource_id = change.resource_id or ""
        what = "run" if isinstance(live, LiveRun) else self.noun
        sent = await self._send_delete(live, resource_id, change.key)
        if sent is None:
            return _Done(f"{what} {resource_id} was already gone", resource_id)
        return _Done(f"deleted {what} {resource_id}{sent.note}", resource_id, sent.job_id)

    async def _send_delete(
        self, live: ListedResource | LiveRun, resource_id: str, key: str
    ) -> _Sent | None:
        """Delete one resource or run; ``None`` when it turned out to be gone already.

        A delete whose answer was lost is sent again while its first job may
        still run; the second then fails on a resource the first removed. Both
        a 404 and such a failure are judged by the listing: gone is gone.
        """
        providers, scope = self.run.providers, self.scope

        async def gone() -> str | None:
            return resource_id if await landed.is_gone(providers, scope, resource_id) else None

        try:
            return await self._send(
                f"delete {key}", lambda: providers.of(scope).delete(scope, live, key=key), gone
            )
        except NotFoundError:
            return None
        except JobFailedError:
            if await gone() is None:
                raise
            return None

    async def _add(self, spec: DesiredResource) -> _Done:
        salt = self.run.salts[(self.scope, spec.key)]
        provider = self.run.providers.resources(self.scope)
        try:
            sent = await self._send(
                f"add {spec.key}",
                lambda: provider.create(self.scope, spec, salt=salt),
                self._marker_lookup(spec, salt),
            )
        except (ApiError, JobFailedError) as error:
            if isinstance(error, MaybeLandedError):
                raise
            sent = await self._refused_as_written(spec, error)
        resource_id = await self._new_id(sent, spec, salt)
        record = self._record(spec, salt, resource_id, sent, creates=True)
        suffix = await self._follow_ups(spec, resource_id, sent, None)
        text = f"created as {self.noun} {resource_id}{suffix}{sent.note}"
        return _Done(text, resource_id, sent.job_id, record)

    async def _refused_as_written(self, spec: DesiredResource, error: ExportctlError) -> _Sent:
        """After a refused add: written anyway if the same spec is there under the key now.

        A server that keeps destinations unique refuses a second copy: of an
        earlier send whose answer was lost (its job slower than our look), or
        of another apply of the same manifest running at the same time. Either
        way what the manifest asks for exists, and its follow-ups (a suspend)
        are still sent; anything else is the refusal it was.
        """
        found = await landed.resource_with_spec(self.run.providers, self.scope, self._kind(), spec)
        if found is None:
            raise error
        return _Sent(None, None, found.resource_id, refused_copy=True)

    async def _edit(self, change: Change, spec: DesiredResource, live: ListedResource) -> _Done:
        salt = self.run.salts[(self.scope, spec.key)]
        provider = self.run.providers.resources(self.scope)
        sent = await self._send(
            f"{change.action.value} {spec.key}",
            lambda: provider.update(self.scope, spec, live, salt=salt),
            self._marker_lookup(spec, salt),
        )
        resource_id = sent.resource_id or live.resource_id
        record = self._record(spec, salt, resource_id, sent, creates=False)
        suffix = await self._follow_ups(spec, resource_id, sent, live)
        verb = "adopted (marker written)" if change.action is Action.ADOPT else "updated"
        text = f"{verb} {self.noun} {resource_id}{suffix}{sent.note}"
        return _Done(text, resource_id, sent.job_id, record)

    async def _run_snapshot(self, change: Change, snapshot: SnapshotSpec) -> _Done:
        """Start a run (or wait for the one in progress), then fetch its artifact if asked."""
        provider = self.run.providers.snapshots(self.scope)
        if change.action is Action.WAIT and change.resource_id is not None:
            run_id = change.resource_id
            waited = await self.waiter.wait(run_id, f"run {run_id} of {snapshot.key}")
            text = f"waited for run {run_id}{waited.note}"
        else:
            sent = await self._send(
                f"run {snapshot.key}",
                lambda: provider.run(self.scope, snapshot),
                self._patiently(self._run_lookup(snapshot, change)),
            )
            found = sent.resource_id or sent.job_id
            if found is None:
                raise ApiError(
                    f"the run of {snapshot.key!r} was accepted, but the answer named no run. "
                    "Run 'exportctl plan' to see whether it appeared."
                )
            run_id = found
            job = sent.job
            if sent.found_id is not None:  # a lost answer: the listed run may still be going
                job = await self.waiter.wait(run_id, f"run {run_id} of {snapshot.key}")
            text = f"ran as run {run_id}{sent.note}{job.note if job is not None else ''}"
        if snapshot.download:
            destination = Path(snapshot.download)
            size = await provider.download(self.scope, snapshot, run_id, destination)
            text += f", downloaded {size} bytes to {destination}"
        return _Done(text, run_id)

    # -- the check after the scope ---------------------------------------------

    async def _verify(self) -> None:
        """List the scope again: remove this apply's own extra copies, fail what it contradicts."""
        providers, scope = self.run.providers, self.scope
        try:
            live = await providers.of(scope).list(scope)
        except ExportctlError as error:
            problem = f"the check afterwards could not list {scope.title}: {error.message}"
            for i in self.written:
                self._amend(i, "", None, problem)
            return
        checks = check_writes(self._kind(), live, list(self.written.values()), self.noun)
        for i, checked in zip(self.written, checks, strict=True):
            removed, failure = await self._remove_copies(checked)
            note = _copies_note(checked, removed, self.noun)
            self._amend(i, note, checked.resource_id, checked.problem or failure)

    async def _remove_copies(self, checked: Checked) -> tuple[list[str], str | None]:
        """Delete this apply's extra copies of one key; the ids removed, and any failure."""
        removed: list[str] = []
        for copy in checked.remove:
            try:
                await self._send_delete(copy, copy.resource_id, checked.key)
            except ExportctlError as error:
                return removed, (
                    f"could not remove the extra copy {self.noun} #{copy.resource_id}: "
                    f"{error.message}. Run 'exportctl apply' again to remove it"
                )
            removed.append(copy.resource_id)
        return removed, None

    def _amend(self, i: int, note: str, resource_id: str | None, problem: str | None) -> None:
        """Add what the check found to a change's result; a problem makes it a failure."""
        result = self.results[i]
        if result.outcome is not Outcome.APPLIED:
            return
        if problem is not None:
            message = f"{result.message}, but {problem}"
            failed = replace(
                result, outcome=Outcome.FAILED, message=message, failure=Failure.TRANSIENT
            )
            self.results[i] = failed
            self.failed = True
            return
        if note or resource_id not in (None, result.resource_id):
            self.results[i] = replace(
                result, message=result.message + note, resource_id=resource_id or result.resource_id
            )

    def _record(
        self, spec: DesiredResource, salt: str, resource_id: str, sent: _Sent, *, creates: bool
    ) -> WriteRecord:
        kind = self._kind()
        options = kind.options(spec)
        normalized = kind.normalize_desired(spec, options)
        return WriteRecord(
            key=spec.key,
            applied=applied_digest(normalized, salt),
            spec_digest=spec_digest(normalized),
            options=options,
            resource_id=resource_id,
            unanswered=sent.unanswered,
            creates=creates,
            made_one=not sent.refused_copy,
            once=sent.written is not None and sent.written.once,
        )

    # -- helpers ------------------------------------------------------------------

    def _kind(self) -> ResourceKind:
        kind = self.scope_plan.kind
        if kind is None:
            raise ValueError(f"the plan of {self.scope.title} carries no resource kind")
        return kind

    def _marker_lookup(
        self, spec: DesiredResource, salt: str
    ) -> Callable[[], Awaitable[str | None]]:
        kind = self._kind()
        applied = applied_digest(kind.normalize_desired(spec), salt)
        providers, scope = self.run.providers, self.scope

        async def lookup() -> str | None:
            found = await landed.resource_with_marker(providers, scope, kind, spec.key, applied)
            return found.resource_id if found else None

        return lookup

    def _run_lookup(
        self, snapshot: SnapshotSpec, change: Change
    ) -> Callable[[], Awaitable[str | None]]:
        """After a lost answer to a run: a run of this request the plan did not list."""
        providers, scope = self.run.providers, self.scope
        planned = set(_planned_runs(self.scope_plan, snapshot))

        async def lookup() -> str | None:
            found = await landed.new_run(providers, scope, snapshot, planned)
            return found.run_id if found else None

        return lookup

    def _patiently(
        self, lookup: Callable[[], Awaitable[str | None]]
    ) -> Callable[[], Awaitable[str | None]]:
        """``lookup``, repeated for ``landed_grace`` seconds until it finds something."""
        options = self.run.options

        async def patient() -> str | None:
            deadline = asyncio.get_running_loop().time() + options.landed_grace
            while (found := await lookup()) is None:
                if asyncio.get_running_loop().time() >= deadline:
                    return None
                await asyncio.sleep(options.poll_interval)
            return found

        return patient

    async def _new_id(self, sent: _Sent, spec: DesiredResource, salt: str) -> str:
        """The new resource's id: from the answer or its job, else found by its marker."""
        resource_id = sent.resource_id or await self._marker_lookup(spec, salt)()
        if resource_id is None:
            raise ApiError(
                f"the add of {spec.key!r} was accepted, but no {self.noun} id came back and no "
                f"{self.noun} of {self.scope.title} carries its marker yet. Run 'exportctl "
                "plan' to see whether it appeared."
            )
        return resource_id

    async def _follow_ups(
        self, spec: DesiredResource, resource_id: str, sent: _Sent, live: ListedResource | None
    ) -> str:
        """Send what the provider still needs after the write; their notes, joined."""
        notes = ""
        provider = self.run.providers.resources(self.scope)
        needed = await provider.follow_ups(self.scope, spec, resource_id, sent.written, live)
        for follow_up in needed:
            await self._send(
                follow_up.what, follow_up.send, _found_if(follow_up.landed, resource_id)
            )
            notes += follow_up.note
        return notes

    async def _send(
        self,
        what: str,
        send: Callable[[], Awaitable[Written]],
        did_land: Callable[[], Awaitable[str | None]],
    ) -> _Sent:
        """Send a mutation; after a lost answer, look before sending it again.

        Counts the sends that got no answer at all and that the look did not
        find: the server may still be working on them (a slow job), so the
        check after the scope must see them land. A send answered with an
        error status (a 503) is not counted: the server finished with it, and
        what it committed shows in that check's listing.
        """
        attempt = silent = 0
        while True:
            attempt += 1
            try:
                result = await send()
            except MaybeLandedError as error:
                found = await did_land()
                if found is not None:
                    return _Sent(None, None, found, unanswered=silent)
                silent += error.status_code is None
                if attempt >= self.run.options.max_sends:
                    raise
                continue
            return _Sent(result, await self._follow(result, what), unanswered=silent)

    async def _follow(self, written: Written, what: str) -> JobState | None:
        if written.job_id is None or written.job is not None:
            return written.job
        return await self.waiter.wait(written.job_id, f"{what} on {self.scope.title}")


def _copies_note(checked: Checked, removed: list[str], noun: str) -> str:
    """What removing extra copies adds to a change's line."""
    if not removed:
        return ""
    ids = ", ".join(f"#{r}" for r in removed)
    if checked.lost_race:
        return (
            f", then removed this apply's copy {ids}: another apply wrote {checked.key!r} at "
            f"the same time ({noun} #{checked.resource_id} is kept)"
        )
    return (
        f", then removed {noun} {ids}, a copy left by an answer that was lost "
        f"({noun} #{checked.resource_id} is kept)"
    )


def _planned_runs(scope_plan: ScopePlan, snapshot: SnapshotSpec) -> list[str]:
    """The runs of ``snapshot``'s request the plan saw (its fresh, wait and prune entries)."""
    return [
        c.resource_id
        for c in scope_plan.changes
        if c.resource_id is not None
        and isinstance(c.live, LiveRun)
        and c.live.request == snapshot.request
    ]


def _found_if(
    landed: Callable[[], Awaitable[bool]], resource_id: str
) -> Callable[[], Awaitable[str | None]]:
    """A follow-up's own check, in the shape ``_send`` asks of a lookup."""

    async def found() -> str | None:
        return resource_id if await landed() else None

    return found


def _desired(change: Change) -> DesiredResource:
    if change.desired is None or isinstance(change.desired, SnapshotSpec):
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) has no desired spec")
    return change.desired


def _snapshot(change: Change) -> SnapshotSpec:
    if not isinstance(change.desired, SnapshotSpec):
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) is no snapshot")
    return change.desired


def _live(change: Change) -> ListedResource | LiveRun:
    if change.live is None:
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) has nothing live")
    return change.live


def _listed(change: Change) -> ListedResource:
    live = _live(change)
    if isinstance(live, LiveRun):
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) is a run")
    return live
