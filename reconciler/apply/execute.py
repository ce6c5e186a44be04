"""Carry out a plan: dataviews in parallel, each dataview's steps in order.

Each dataview runs its steps (``steps.order_steps``) one after another; when
one fails, the rest of that dataview is skipped (later steps may depend on
it: a replace's add needs its delete, an add may need the destination a
delete frees), while other dataviews carry on, unless ``fail_fast`` asks
everything still waiting to be skipped. A rerun then plans only what is left.

Every mutation goes through ``_send``: a 202 answer is followed through the
shared ``JobWaiter``; an answer lost after sending (``MaybeLandedError``) is
checked against a fresh listing (``landed``) before the request is sent again,
so a retried add can never become a second export.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.apply import landed
from reconciler.apply.jobs import JobWaiter
from reconciler.apply.result import ActionResult, DataviewResult, Failure, Outcome
from reconciler.apply.steps import Phase, Step, order_steps
from reconciler.errors import ApiError, ExportctlError, NotFoundError
from reconciler.identity import applied_digest
from reconciler.model import DataviewRef, ExportSpec, LiveExport
from reconciler.plan import Action, Change, DataviewPlan, Plan
from reconciler.progress import Progress
from reconciler.providers.mammoth.client import MammothClient, MaybeLandedError, MutationResult
from reconciler.providers.mammoth.wire import add_body, edit_body

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
    poll_interval: float = 0.5  # seconds between /jobs polls
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
    """A mutation that took effect: the answer (and job), or the evidence it landed."""

    result: MutationResult | None
    job: Mapping[str, Any] | None
    found_id: int | None = None  # set when the answer was lost and a listing confirmed it

    @property
    def export_id(self) -> int | None:
        if self.found_id is not None:
            return self.found_id
        response = self.job.get("response") if self.job else None
        if isinstance(response, Mapping) and isinstance(response.get("trigger_id"), int):
            return int(response["trigger_id"])
        return self.result.trigger_id if self.result else None

    @property
    def job_id(self) -> int | None:
        return self.result.job_id if self.result else None

    @property
    def note(self) -> str:
        if self.found_id is not None:
            return " (the answer was lost; the listing shows it landed)"
        return f" via job {self.job_id}" if self.job_id is not None else ""

    @property
    def export_status(self) -> str | None:
        """The export's status from a direct answer (a job's status is not the export's)."""
        if self.result is None or self.result.job_id is not None:
            return None
        return self.result.status


class _Run:
    """What every dataview of one apply shares: client, jobs, progress, the stop flag."""

    def __init__(
        self,
        client: MammothClient,
        salts: Salts,
        options: ExecuteOptions,
        progress: Progress,
        total: int,
    ) -> None:
        self.client = client
        self.salts = salts
        self.options = options
        self.progress = progress
        self.total = total
        self.done = 0
        self.stop = asyncio.Event()
        self.waiter = JobWaiter(
            client.get_jobs, timeout=options.job_timeout, poll_interval=options.poll_interval
        )
        self.slots = asyncio.Semaphore(options.parallelism)

    def report(self, result: ActionResult) -> None:
        self.done += 1
        self.progress.finished(result, self.done, self.total)


async def execute(
    client: MammothClient,
    plan: Plan,
    salts: Salts,
    *,
    options: ExecuteOptions,
    progress: Progress,
) -> tuple[DataviewResult, ...]:
    """Apply every change of ``plan``; returns the results in plan order."""
    total = sum(1 for _, change in plan.changes() if change.action.is_change)
    run = _Run(client, salts, options, progress, total)
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
        self.client = run.client
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
        export_id = _live(change).id

        async def gone() -> int | None:
            return export_id if await landed.is_gone(self.client, self.ref, export_id) else None

        try:
            sent = await self._send(
                f"delete {change.key}",
                lambda: self.client.delete_export(self.ref, export_id, key=change.key),
                gone,
            )
        except NotFoundError:
            return _Done(f"export {export_id} was already gone", export_id)
        return _Done(f"deleted export {export_id}{sent.note}", export_id, sent.job_id)

    async def _add(self, spec: ExportSpec) -> _Done:
        salt = self.run.salts[(self.ref, spec.key)]
        body = add_body(spec, self.ref, salt=salt)
        sent = await self._send(
            f"add {spec.key}",
            lambda: self.client.add_export(self.ref, body, key=spec.key),
            self._patiently(self._marker_lookup(spec, salt)),
        )
        export_id = await self._export_id(sent, spec, salt)
        suffix = await self._settle_suspension(spec, export_id, sent, was_suspended=False)
        return _Done(f"created as export {export_id}{suffix}{sent.note}", export_id, sent.job_id)

    async def _edit(self, change: Change, spec: ExportSpec, live: LiveExport) -> _Done:
        salt = self.run.salts[(self.ref, spec.key)]
        body = edit_body(spec, self.ref, live.id, salt=salt, live=live)
        sent = await self._send(
            f"{change.action.value} {spec.key}",
            lambda: self.client.edit_export(self.ref, live.id, body, key=spec.key),
            self._marker_lookup(spec, salt),
        )
        export_id = sent.export_id or live.id
        suffix = await self._settle_suspension(spec, export_id, sent, was_suspended=live.suspended)
        verb = "adopted (marker written)" if change.action is Action.ADOPT else "updated"
        return _Done(f"{verb} export {export_id}{suffix}{sent.note}", export_id, sent.job_id)

    # -- helpers ------------------------------------------------------------------

    def _marker_lookup(self, spec: ExportSpec, salt: str) -> Callable[[], Awaitable[int | None]]:
        applied = applied_digest(spec, salt)

        async def lookup() -> int | None:
            found = await landed.export_with_marker(self.client, self.ref, spec.key, applied)
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

    async def _settle_suspension(
        self, spec: ExportSpec, export_id: int, sent: _Sent, *, was_suspended: bool
    ) -> str:
        """Suspend or restore after an add or edit when the manifest asks for another state."""
        if not (spec.suspended or was_suspended):
            return ""  # never suspended, not wanted suspended: nothing to look at
        now = await self._suspended_now(export_id, sent)
        if now == spec.suspended:
            return ""
        path = "suspend" if spec.suspended else "restore"

        async def in_state() -> int | None:
            state = await landed.is_suspended(self.client, self.ref, export_id)
            return export_id if state == spec.suspended else None

        await self._send(
            f"{path} {spec.key}",
            lambda: self.client.patch_export(self.ref, export_id, path, key=spec.key),
            in_state,
        )
        return ", suspended" if spec.suspended else ", restored"

    async def _suspended_now(self, export_id: int, sent: _Sent) -> bool:
        status = sent.export_status
        if status is not None:
            return status in ("suspended", "suspending")
        state = await landed.is_suspended(self.client, self.ref, export_id)
        return bool(state)

    async def _send(
        self,
        what: str,
        send: Callable[[], Awaitable[MutationResult]],
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

    async def _follow(self, result: MutationResult, what: str) -> Mapping[str, Any] | None:
        if result.job_id is None:
            return None
        if result.status == "success" and isinstance(result.body, Mapping):
            job = result.body.get("job")
            return job if isinstance(job, Mapping) else None
        return await self.run.waiter.wait(result.job_id, f"{what} on dataview {self.ref}")


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
