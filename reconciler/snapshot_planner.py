"""Planning snapshots: one-off runs that must exist and be fresh. Pure, no I/O.

A snapshot entry asks for "a successful run of this request, no older than
``max_age``". Runs are immutable, so there is nothing to edit and nothing to
adopt: a listed run belongs to an entry when its normalized request equals
the entry's (the provider normalizes both sides). Per entry, in manifest order:

- ``… wait`` when a run of it is in progress, or a run that holds the whole
  scope (``LiveRun.exclusive``): apply waits for that run instead of
  starting a second one (most APIs refuse a second one anyway);
- ``= fresh`` when the newest successful run is younger than ``max_age`` (or
  any successful run exists and no ``max_age`` is set);
- ``+ run`` otherwise: none yet, the newest is too old or expired, or the
  latest run failed (its reason is shown; a failed run is never retried on
  the server, apply starts a new one);
- ``- delete`` for successful runs beyond ``keep``, oldest first, counting
  the run a ``+ run`` (or a waited-for run of it) will add.

Drift for a snapshot is *stale* (no fresh run) or *failed*, never "changed
by hand".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reconciler.model import LiveRun, LiveScope, RunState, ScopeSpec, SnapshotSpec
from reconciler.normalize import canonical_json, digest, leaves
from reconciler.plan import Action, Change, DriftKind, FieldChange, ScopePlan

__all__ = ["describe_age", "plan_snapshots", "runs_fingerprint"]


def plan_snapshots(spec: ScopeSpec, live: LiveScope | None) -> ScopePlan:
    """The plan of one scope of snapshots against the runs listed there."""
    runs = live.runs if live is not None else ()
    changes: list[Change] = []
    holding = sorted(
        (r for r in runs if r.exclusive and r.state is RunState.RUNNING), key=lambda r: r.age_s
    )
    for snapshot in spec.snapshots:
        mine = sorted((r for r in runs if r.request == snapshot.request), key=lambda r: r.age_s)
        decision = _decide(snapshot, holding + mine)
        changes.append(decision)
        changes += _pruned(snapshot, mine, adds_one=_adds_a_success(decision, snapshot))
    return ScopePlan(spec.scope, tuple(changes), runs_fingerprint(runs))


def runs_fingerprint(runs: Sequence[LiveRun]) -> str:
    """What a saved plan of snapshots depended on: which runs existed, not their progress.

    A run finishing between plan and apply is what a ``wait`` expects, so
    states and ages are left out; a run that appeared or vanished is not.
    """
    ordered = sorted(runs, key=lambda r: (r.run_id, canonical_json(r.request)))
    return digest(canonical_json([(r.run_id, r.request) for r in ordered]))


def _decide(snapshot: SnapshotSpec, runs: list[LiveRun]) -> Change:
    """``runs`` are the entry's own, youngest first."""
    running = [r for r in runs if r.state is RunState.RUNNING]
    if running:
        run = running[0]
        reason = (
            f"run {run.run_id} is {run.status or 'in progress'} (requested "
            f"{describe_age(run.age_s)} ago); apply waits for it"
        )
        return _change(Action.WAIT, snapshot, run, reason, None)
    succeeded = [r for r in runs if r.state is RunState.SUCCEEDED]
    newest = succeeded[0] if succeeded else None
    if newest is not None and (snapshot.max_age_s is None or newest.age_s <= snapshot.max_age_s):
        limit = f", max_age {describe_age(snapshot.max_age_s)}" if snapshot.max_age_s else ""
        reason = f"run {newest.run_id} succeeded {describe_age(newest.age_s)} ago{limit}"
        return _change(Action.FRESH, snapshot, newest, reason, None)
    latest = runs[0] if runs else None
    if latest is not None and latest.state is RunState.FAILED:
        why = f": {latest.failure}" if latest.failure else ""
        reason = f"the latest run ({latest.run_id}) failed{why}; apply starts a new one"
        return _change(Action.RUN, snapshot, None, reason, DriftKind.FAILED)
    reason = _stale_reason(snapshot, newest, runs)
    return _change(Action.RUN, snapshot, None, reason, DriftKind.STALE)


def _stale_reason(snapshot: SnapshotSpec, newest: LiveRun | None, runs: list[LiveRun]) -> str:
    if newest is not None:
        assert snapshot.max_age_s is not None  # else it would be fresh
        return (
            f"the newest successful run ({newest.run_id}) is {describe_age(newest.age_s)} old, "
            f"older than max_age {describe_age(snapshot.max_age_s)}"
        )
    if any(r.state is RunState.EXPIRED for r in runs):
        return "every earlier run has expired on the server"
    return "no run of this request exists yet"


def _adds_a_success(decision: Change, snapshot: SnapshotSpec) -> bool:
    """Whether apply will leave one more successful run of this request: a run, or a
    wait for a run of it (not for another request's run that holds the scope)."""
    if decision.action is Action.RUN:
        return True
    live = decision.live
    return (
        decision.action is Action.WAIT
        and isinstance(live, LiveRun)
        and (live.request == snapshot.request)
    )


def _pruned(snapshot: SnapshotSpec, runs: list[LiveRun], *, adds_one: bool) -> list[Change]:
    """Successful runs beyond ``keep``, counting the one apply is about to add."""
    if snapshot.keep is None:
        return []
    succeeded = [r for r in runs if r.state is RunState.SUCCEEDED]
    room = snapshot.keep - 1 if adds_one else snapshot.keep
    return [
        _change(
            Action.DELETE,
            snapshot,
            run,
            f"run {run.run_id} ({describe_age(run.age_s)} old) is beyond keep: {snapshot.keep}",
            None,
        )
        for run in succeeded[max(room, 0) :]
    ]


def _change(
    action: Action,
    snapshot: SnapshotSpec,
    run: LiveRun | None,
    reason: str,
    drift: DriftKind | None,
) -> Change:
    fields = tuple(_request_fields(snapshot)) if action is Action.RUN else ()
    if action is Action.RUN and snapshot.run_note:
        reason = f"{reason}. {snapshot.run_note}"
    return Change(
        action=action,
        key=snapshot.key,
        type=snapshot.type,
        resource_id=run.run_id if run is not None else None,
        reason=reason,
        fields=fields,
        drift=drift,
        desired=snapshot,
        live=run,
    )


def _request_fields(snapshot: SnapshotSpec) -> Iterator[FieldChange]:
    """What a run requests, one ``+ path: value`` line per leaf (secrets are never in it)."""
    yield from (FieldChange(path, None, value) for path, value in leaves(snapshot.request))
    if snapshot.download:
        yield FieldChange("download", None, snapshot.download)


def describe_age(seconds: float | None) -> str:
    """A duration as a person says it: ``45s``, ``12m``, ``3h``, ``2d 4h``."""
    if seconds is None:
        return "unknown"
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours}h" + (f" {minutes}m" if minutes else "")
    days, hours = divmod(whole // 3600, 24)
    return f"{days}d" + (f" {hours}h" if hours else "")
