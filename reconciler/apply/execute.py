"""Carry out a plan: dataviews in parallel, each dataview's steps in order.

Each dataview runs its steps (``steps.order_steps``) one after another; when
one fails, the rest of that dataview is skipped (later steps may depend on
it: a replace's add needs its delete, an add may need the destination a
delete frees), while other dataviews carry on, unless ``fail_fast`` asks
everything still waiting to be skipped. A rerun then plans only what is left.

Every write goes through ``_send``, the one place that decides whether to
send again: a job is followed through the shared ``JobWaiter``; an answer
lost after sending (``MaybeLandedError``) is checked against a fresh listing
(``landed``) before the request is sent again, so a retried add can never
become a second export. The provider does the talking; what it needs after a
write (Mammoth: suspend or restore) comes back as follow-ups, sent the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from reconciler.apply import landed
from reconciler.apply.jobs import JobWaiter
from reconciler.apply.result import ActionResult, DataviewResult, Failure, Outcome
from reconciler.apply.steps import Phase, Step, order_steps
from reconciler.errors import ApiError, ExportctlError, MaybeLandedError, NotFoundError
from reconciler.identity import applied_digest
from reconciler.model import DataviewRef, ExportSpec, LiveExport
from reconciler.plan import Action, Change, DataviewPlan, Plan
from reconciler.progress import Progress
from reconciler.providers.base import JobState, Provider, Written

__all__ = ["ExecuteOptions", "Salts", "execute"]

# The marker salt of each change that writes one, by (dataview, key); the same
# salt is used by preflight and by every resend, so "did it land?" can look
# for the exact ``applied`` value.
Salts = Mapping[tuple[DataviewRef, str], str]

SKIPPED_AFTER_FAILURE = "skipped: an earlier change to this dataview failed"
SKIPPED_FAIL_FAST = "skipped: --fail-fast stopped the run after a failure"


@dataclass(frozen=True)
class ExecuteOptions:
    """How hard and how long to try."""

    parallelism: int = 8  # dataviews worked on at once
    job_timeout: float = 300.0  # seconds one job may take
    poll_interval: float = 0.5  # seconds between job polls
    fail_fast: bool = False
    max_sends: int = 3  # sends of one mutation whose answers were lost
    # After a lost answer to an add, how long to keep looking for the export
    # before sending it again: the lost answer may have been a 202 whose job
    # has not run yet.
    # Limitation: a job slower than this can still produce a second export; the
    # next plan then deletes the extra one (same key, higher id).
    landed_grace: float = 2.0


@dataclass(frozen=True)
class _Done:
    """One finished step: its part of the progress message and what it produced."""

    text: str
    export_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class _Sent:
    """A write that took effect: the answer (and its job), or the evidence it landed."""

    written: Written | None
    job: JobState | None
    found_id: int | None = None  # set when the answer was lost and a listing confirmed it

    @property
    def export_id(self) -> int | None:
        if self.found_id is not None:
            return self.found_id
        if self.job is not None and self.job.resource_id is not None:
            return self.job.resource_id
        return self.written.resource_id if self.written else None

    @property
    def job_id(self) -> int | None:
        return self.written.job_id if self.written else None

    @property
    def note(self) -> str:
        if self.found_id is not None:
            return " (the answer was lost; the listing shows it landed)"
        return f" via job {self.job_id}" if self.job_id is not None else ""


class _Run:
    """What every dataview of one apply shares: provider, jobs, progress, the stop flag."""

    def __init__(
        self,
        provider: Provider,
        salts: Salts,
        options: ExecuteOptions,
        progress: Progress,
        total: int,
    ) -> None:
        self.provider = provider
        self.salts = salts
        self.options = options
        self.progress = progress
        self.total = total
        self.done = 0
        self.stop = asyncio.Event()
        self.waiter = JobWaiter(
            provider.poll_jobs, timeout=options.job_timeout, poll_interval=options.poll_interval
        )
        self.slots = asyncio.Semaphore(options.parallelism)

    def report(self, result: ActionResult) -> None:
        self.done += 1
        self.progress.finished(result, self.done, self.total)


async def execute(
    provider: Provider,
    plan: Plan,
    salts: Salts,
    *,
    options: ExecuteOptions,
    progress: Progress,
) -> tuple[DataviewResult, ...]:
    """Apply every change of ``plan``; returns the results in plan order."""
    total = sum(1 for _, change in plan.changes() if change.action.is_change)
    run = _Run(provider, salts, options, progress, total)
    try:
        return tuple(
            await asyncio.gather(*(_run_dataview(run, dataview) for dataview in plan.dataviews))
        )
    finally:
        await run.waiter.close()
        progress.close()


async def _run_dataview(run: _Run, dataview: DataviewPlan) -> DataviewResult:
    async with run.slots:
        return await _DataviewRun(run, dataview).go()


class _DataviewRun:
    """The steps of one dataview, one after another."""

    def __init__(self, run: _Run, dataview: DataviewPlan) -> None:
        self.run = run
        self.provider = run.provider
        self.ref = dataview.ref
        self.dataview = dataview
        self.results: dict[int, ActionResult] = {}
        self.partial: dict[int, list[_Done]] = {}
        self.failed = False

    async def go(self) -> DataviewResult:
        index = {id(change): i for i, change in enumerate(self.dataview.changes)}
        for step in order_steps(self.dataview):
            i = index[id(step.change)]
            if i not in self.results:
                await self._take(i, step)
        return DataviewResult(self.ref, tuple(self.results[i] for i in sorted(self.results)))

    async def _take(self, i: int, step: Step) -> None:
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
        export_id = done.export_id if done else change.export_id
        result = ActionResult(
            ref=self.ref,
            key=change.key,
            action=change.action,
            handler_type=_handler_type(change),
            outcome=outcome,
            message=message,
            export_id=export_id,
            job_id=done.job_id if done else None,
            failure=failure,
        )
        self.results[i] = result
        self.run.report(result)

    async def _do(self, step: Step) -> _Done:
        change = step.change
        if step.phase is Phase.DELETE:
            return await self._delete(change)
        spec = _desired(change)
        if step.phase is Phase.ADD:
            return await self._add(spec)
        return await self._edit(change, spec, _live(change))

    # -- the three kinds of step ------------------------------------------------

    async def _delete(self, change: Change) -> _Done:
        live = _live(change)
        export_id = live.id

        async def gone() -> int | None:
            return export_id if await landed.is_gone(self.provider, self.ref, export_id) else None

        try:
            sent = await self._send(
                f"delete {change.key}",
                lambda: self.provider.delete(self.ref, live, key=change.key),
                gone,
            )
        except NotFoundError:
            return _Done(f"export {export_id} was already gone", export_id)
        return _Done(f"deleted export {export_id}{sent.note}", export_id, sent.job_id)

    async def _add(self, spec: ExportSpec) -> _Done:
        salt = self.run.salts[(self.ref, spec.key)]
        sent = await self._send(
            f"add {spec.key}",
            lambda: self.provider.create(self.ref, spec, salt=salt),
            self._patiently(self._marker_lookup(spec, salt)),
        )
        export_id = await self._export_id(sent, spec, salt)
        suffix = await self._follow_ups(spec, export_id, sent, None)
        return _Done(f"created as export {export_id}{suffix}{sent.note}", export_id, sent.job_id)

    async def _edit(self, change: Change, spec: ExportSpec, live: LiveExport) -> _Done:
        salt = self.run.salts[(self.ref, spec.key)]
        sent = await self._send(
            f"{change.action.value} {spec.key}",
            lambda: self.provider.update(self.ref, spec, live, salt=salt),
            self._marker_lookup(spec, salt),
        )
        export_id = sent.export_id or live.id
        suffix = await self._follow_ups(spec, export_id, sent, live)
        verb = "adopted (marker written)" if change.action is Action.ADOPT else "updated"
        return _Done(f"{verb} export {export_id}{suffix}{sent.note}", export_id, sent.job_id)

    # -- helpers ------------------------------------------------------------------

    def _marker_lookup(self, spec: ExportSpec, salt: str) -> Callable[[], Awaitable[int | None]]:
        applied = applied_digest(spec, salt)

        async def lookup() -> int | None:
            found = await landed.export_with_marker(self.provider, self.ref, spec.key, applied)
            return found.id if found else None

        return lookup

    def _patiently(
        self, lookup: Callable[[], Awaitable[int | None]]
    ) -> Callable[[], Awaitable[int | None]]:
        """``lookup``, repeated for ``landed_grace`` seconds until it finds something."""
        options = self.run.options

        async def patient() -> int | None:
            deadline = asyncio.get_running_loop().time() + options.landed_grace
            while (found := await lookup()) is None:
                if asyncio.get_running_loop().time() >= deadline:
                    return None
                await asyncio.sleep(options.poll_interval)
            return found

        return patient

    async def _export_id(self, sent: _Sent, spec: ExportSpec, salt: str) -> int:
        """The new export's id: from the answer or its job, else found by its marker."""
        export_id = sent.export_id or await self._marker_lookup(spec, salt)()
        if export_id is None:
            raise ApiError(
                f"the add of {spec.key!r} was accepted, but no export id came back and no "
                f"export of dataview {self.ref} carries its marker yet. Run 'exportctl plan' "
                "to see whether it appeared."
            )
        return export_id

    async def _follow_ups(
        self, spec: ExportSpec, export_id: int, sent: _Sent, live: LiveExport | None
    ) -> str:
        """Send what the provider still needs after the write; their notes, joined."""
        notes = ""
        needed = await self.provider.follow_ups(self.ref, spec, export_id, sent.written, live)
        for follow_up in needed:
            await self._send(follow_up.what, follow_up.send, _found_if(follow_up.landed, export_id))
            notes += follow_up.note
        return notes

    async def _send(
        self,
        what: str,
        send: Callable[[], Awaitable[Written]],
        did_land: Callable[[], Awaitable[int | None]],
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
        return await self.run.waiter.wait(written.job_id, f"{what} on dataview {self.ref}")


def _found_if(
    landed: Callable[[], Awaitable[bool]], export_id: int
) -> Callable[[], Awaitable[int | None]]:
    """A follow-up's own check, in the shape ``_send`` asks of a lookup."""

    async def found() -> int | None:
        return export_id if await landed() else None

    return found


def _desired(change: Change) -> ExportSpec:
    if change.desired is None:
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) has no desired spec")
    return change.desired


def _live(change: Change) -> LiveExport:
    if change.live is None:
        raise ValueError(f"plan change {change.key!r} ({change.action.value}) has no live export")
    return change.live


def _handler_type(change: Change) -> str:
    """What the progress line shows: the new handler for an add or replace."""
    return change.desired.handler_type if change.desired else change.handler_type
