"""Properties over random states: the plan is deterministic, converges, leaks nothing."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import DesiredState, LiveScope, Prune, Scope, ScopeSpec, freeze
from reconciler.plan import Action, Plan
from reconciler.planner import make_plan
from reconciler.providers.mammoth.kind import dataview_spec
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec, live_dataview
from tests.providers.mammoth.planner.server import apply_plan, stored_record

REFS = (DataviewRef(1, 1, 1, 1), DataviewRef(1, 1, 1, 2))
SECRET = "s3cr3t-"  # every generated secret value starts with it
KEYS = ("a", "b", "c", "d")
Live = dict[Scope, LiveScope]
Records = list[dict[str, object]]


@st.composite
def exports(draw: st.DrawFn, key: str) -> ExportSpec:
    handler = draw(st.sampled_from(("s3", "internal_dataset", "future_handler")))
    name = draw(st.sampled_from(("x", "y")))  # few names, so addresses collide
    target: dict[str, object] = {"file": name} if handler == "s3" else {"dataset_name": name}
    if draw(st.booleans()):
        target["password"] = SECRET + draw(st.sampled_from("12"))
    if handler == "s3" and draw(st.booleans()):
        target["file_type"] = draw(st.sampled_from(("csv", "json")))
    return ExportSpec(
        key=key,
        handler_type=handler,
        trigger_type=draw(st.sampled_from(("none", "pipeline"))),
        target_properties=freeze(target),
        condition=freeze(draw(st.sampled_from(({}, {"a": 1}, {"a": None})))),
        sequence=draw(st.none() | st.integers(1, 3)),
        suspended=draw(st.booleans()),
        protect=draw(st.booleans()),
    )


@st.composite
def written_from(draw: st.DrawFn, desired: list[ExportSpec]) -> ExportSpec:
    """What exportctl once wrote: often a desired export, maybe with an older secret."""
    if not desired or draw(st.booleans()):
        return draw(exports(draw(st.sampled_from(KEYS))))
    written = draw(st.sampled_from(desired))
    if "password" in written.target_properties and draw(st.booleans()):
        target = {**written.target_properties, "password": SECRET + "old"}
        written = replace(written, target_properties=freeze(target))
    return written


@st.composite
def dataview(draw: st.DrawFn, ref: DataviewRef) -> tuple[ScopeSpec, Records]:
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=3))
    desired = [draw(exports(key)) for key in keys]
    live = []
    for export_id in range(ref.dataview_id * 100, ref.dataview_id * 100 + draw(st.integers(0, 4))):
        written = draw(written_from(desired))
        record = stored_record(export_id, written, ref, salt="ab", marked=draw(st.booleans()))
        record["status"] = draw(st.sampled_from(("executed", "deleted", "suspended", None)))
        if draw(st.booleans()):  # changed by hand since exportctl wrote it
            record["trigger_type"] = "schedule"
        live.append(record)
    prune = draw(st.sampled_from(Prune))
    return dataview_spec(ref, tuple(desired), prune=prune), live


@st.composite
def listings(draw: st.DrawFn) -> tuple[DesiredState, dict[DataviewRef, Records]]:
    pairs = [draw(dataview(ref)) for ref in REFS]
    desired = DesiredState(tuple(spec for spec, _ in pairs), digest="m")
    return desired, {DataviewRef.of(spec.scope): live for spec, live in pairs}


def listed(records: dict[DataviewRef, Records], seed: int | None = None) -> Live:
    """The scopes as Mammoth's provider lists them, from records in any order."""
    rng = random.Random(seed)
    return {
        ref.scope: live_dataview(ref, rng.sample(rows, len(rows)) if seed is not None else rows)
        for ref, rows in records.items()
    }


@st.composite
def states(draw: st.DrawFn) -> tuple[DesiredState, Live]:
    desired, records = draw(listings())
    return desired, listed(records)


def pending(plan: Plan) -> list[tuple[Action, str]]:
    return [(c.action, c.key) for _, c in plan.changes() if c.action.is_change and not c.refused]


@settings(max_examples=60, deadline=None)
@given(listings(), st.integers(0, 1000))
def test_the_plan_is_deterministic(
    inputs: tuple[DesiredState, dict[DataviewRef, Records]], seed: int
) -> None:
    """Whatever order the API answers in, the listing (and so the plan) is the same."""
    desired, records = inputs
    assert make_plan(desired, listed(records)) == make_plan(desired, listed(records, seed))


@settings(max_examples=60, deadline=None)
@given(states())
def test_applying_the_plan_converges_to_no_changes(inputs: tuple[DesiredState, Live]) -> None:
    desired, live = inputs
    after = apply_plan(make_plan(desired, live), live, salt="cd")
    assert pending(make_plan(desired, after)) == []


@settings(max_examples=40, deadline=None)
@given(states())
def test_no_secret_value_reaches_the_plan(inputs: tuple[DesiredState, Live]) -> None:
    plan = make_plan(*inputs)
    values = [(f.old, f.new) for _, c in plan.changes() for f in c.fields]
    assert SECRET not in repr(plan) + repr(values)
