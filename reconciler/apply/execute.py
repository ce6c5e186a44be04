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
from dataclasses import dataclass
from pathlib import Path

from reconciler.apply import landed
from reconciler.apply.jobs import JobWaiter
from reconciler.apply.result import ActionResult, Failure, Outcome, ScopeResult
from reconciler.apply.steps import Phase, Step, order_steps
from reconciler.errors import ApiError, ExportctlError, MaybeLandedError, NotFoundError
from reconciler.identity import applied_digest
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
SKIPPED_INTERRUPTED = "skipped: interrupted (Ctrl-C) before it was sent"


@dataclass(frozen=True)
class ExecuteOptions:
    """How hard and how long to try."""

    parallelism: int = 8  # scopes worked on at once
    job_timeout: float = 300.0  # seconds one job may take
    poll_interval: float = 0.5  # seconds between job polls
    fail_fast: bool = False
    max_sends: int = 3  # sends of one mutation whose answers were lost
    # After a lost answer to an add, how long to keep looking for the resource
    # before sending it again: the lost answer may have been a 202 whose job
    # has not run yet.
    # Limitation: a job slower than this can still produce a second resource;
    # the next plan then deletes the extra one (same key, listed later).
    landed_grace: float = 2.0


@dataclass(frozen=True)
class _Done:
    """One finished step: its part of the progress message and what it produced."""

    text: str
    resource_id: str | None = None
    job_id: str | None = None


@dataclass(frozen=True)
class _Sent:
    """A write that took effect: the answer (and its job), or the evidence it landed."""

    written: Written | None
    job: JobState | None
    found_id: str | None = None  # set when the answer was lost and a listing confirmed it

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
        self.failed = False

    async def go(self) -> ScopeResult:
        index = {id(change): i for i, change in enumerate(self.scope_plan.changes)}
        for step in order_steps(self.scope_plan):
            i = index[id(step.change)]
            if i not in self.results:
                await self._take(i, step)
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
        providers, scope = self.run.providers, self.scope

        async def gone() -> str | None:
            return resource_id if await landed.is_gone(providers, scope, resource_id) else None

        try:
            sent = await self._send(
                f"delete {change.key}",
                lambda: providers.of(scope).delete(scope, live, key=change.key),
                gone,
            )
        except NotFoundError:
            return _Done(f"{what} {resource_id} was already gone", resource_id)
        return _Done(f"deleted {what} {resource_id}{sent.note}", resource_id, sent.job_id)

    async def _add(self, spec: DesiredResource) -> _Done:
        salt = self.run.salts[(self.scope, spec.key)]
        provider = self.run.providers.resources(self.scope)
        sent = await self._send(
            f"add {spec.key}",
            lambda: provider.create(self.scope, spec, salt=salt),
            self._patiently(self._marker_lookup(spec, salt)),
        )
        resource_id = await self._new_id(sent, spec, salt)
        suffix = await self._follow_ups(spec, resource_id, sent, None)
        text = f"created as {self.noun} {resource_id}{suffix}{sent.note}"
        return _Done(text, resource_id, sent.job_id)

    async def _edit(self, change: Change, spec: DesiredResource, live: ListedResource) -> _Done:
        salt = self.run.salts[(self.scope, spec.key)]
        provider = self.run.providers.resources(self.scope)
        sent = await self._send(
            f"{change.action.value} {spec.key}",
            lambda: provider.update(self.scope, spec, live, salt=salt),
            self._marker_lookup(spec, salt),
        )
        resource_id = sent.resource_id or live.resource_id
        suffix = await self._follow_ups(spec, resource_id, sent, live)
        verb = "adopted (marker written)" if change.action is Action.ADOPT else "updated"
        return _Done(
            f"{verb} {self.noun} {resource_id}{suffix}{sent.note}", resource_id, sent.job_id
        )

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
        """Send a mutation; after a lost answer, look before sending it again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await send()
            except MaybeLandedError:
                found = await did_land()
                if found is not None:
                    return _Sent(None, None, found)
                if attempt >= self.run.options.max_sends:
                    raise
                continue
            return _Sent(result, await self._follow(result, what))

    async def _follow(self, written: Written, what: str) -> JobState | None:
        if written.job_id is None or written.job is not None:
            return written.job
        return await self.waiter.wait(written.job_id, f"{what} on {self.scope.title}")


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
