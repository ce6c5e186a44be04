"""Random manifests over random live states: apply converges, with no duplicate key.

Three properties: one apply converges from any live state; under any schedule
of faults (503s, 429s, slow jobs, answers lost after the change landed) apply
converges within three runs; and so do two applies started at once. After
each: the plan is empty, no key has two exports (but a conflict seeded by
hand), hand-made exports are untouched and no protected copy was deleted.

Live states are seeded through the API: hand-made (unmarked) exports, marked
ones with stale markers, a copy made by hand with a key's marker pasted along
(a conflict: left alone, and protected), renamed keys, and exports to
delete. Each example gets its own server over a fresh database.
"""

import contextlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.result import ApplyResult
from reconciler.errors import ApplyRefusedError
from reconciler.identity import MARKER_FIELD
from reconciler.model import DesiredState, Prune
from reconciler.providers.mammoth.model import ExportSpec
from reconciler.sandbox.config import SandboxConfig
from tests.apply.convergence import assert_converged, unmarked
from tests.apply.helpers import REF, REF2, apply_now, desired, live_exports, s3, seed, spec
from tests.sandboxes import RunningSandbox, serve_in_thread

KEYS = ("k0", "k1", "k2", "k3", "k4")
# What a key's slot holds before apply; files are per key, so seeds never clash.
SLOTS = ("empty", "unmarked", "stale", "conflict", "renamed", "moved")


def _marked(key: str, file: str, *, protect: bool = False) -> dict[str, Any]:
    marker: dict[str, Any] = {"key": key, "applied": "v1:00:stale:stale"}
    if protect:
        marker["protect"] = True
    return {**_plain(file), "additional_properties": {MARKER_FIELD: marker}}


def _plain(file: str) -> dict[str, Any]:
    return {"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": file}}


def _seed_bodies(key: str, slot: str) -> list[dict[str, Any]]:
    file = f"{key}.csv"
    return {
        "empty": [],
        "unmarked": [_plain(file)],
        "stale": [_marked(key, file)],
        # A copy made by hand, its marker pasted along with protect: true.
        "conflict": [_marked(key, file), _marked(key, f"{key}-copy.csv", protect=True)],
        "renamed": [_marked(f"old-{key}", file)],
        "moved": [_marked(key, f"{key}-moved.csv")],
    }[slot]


def _copies(base_url: str) -> list[tuple[str, object]]:
    """The hand-made copies that carry a pasted marker, as they are listed."""
    return [
        (e.id, e.target_properties)
        for e in live_exports(base_url, REF)
        if str(e.target_properties.get("file", "")).endswith("-copy.csv")
    ]


@st.composite
def _export(draw: st.DrawFn, key: str) -> ExportSpec:
    mid_pipeline = draw(st.booleans())  # a step inside the pipeline names its position
    extra = {
        "suspended": draw(st.booleans()),
        "end_of_pipeline": not mid_pipeline,
        "sequence": 1 if mid_pipeline else None,
    }
    if draw(st.integers(0, 4)) == 0:  # sometimes another handler: a replace or an add
        return spec(key, "internal_dataset", {"dataset_name": f"ds-{key}"}, **extra)
    return s3(key, f"{key}.csv", **extra)


def _one_position_each(exports: list[ExportSpec]) -> list[ExportSpec]:
    """Only the first mid-pipeline export keeps position 1 (validate refuses a shared one)."""
    first = next((i for i, e in enumerate(exports) if e.sequence is not None), None)
    return [
        e if e.sequence is None or i == first else replace(e, sequence=None, end_of_pipeline=True)
        for i, e in enumerate(exports)
    ]


@st.composite
def _case(draw: st.DrawFn) -> tuple[DesiredState, dict[str, str], int]:
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    exports = _one_position_each([draw(_export(key)) for key in keys])
    prune = draw(st.sampled_from(list(Prune)))
    slots = {key: draw(st.sampled_from(SLOTS)) for key in KEYS}
    # A conflict's copy outlives the export it copies only while its key is
    # wanted: once that one is deleted, the copy is the key's orphan.
    slots.update({k: "stale" for k, slot in slots.items() if slot == "conflict" and k not in keys})
    hand_made = draw(st.integers(0, 2))
    # The second dataview gets S3 copies: a dataset name is unique per project.
    copies = [s3(e.key, f"{e.key}.csv", suspended=e.suspended) for e in exports[:2]]
    return desired((REF, exports), (REF2, copies), prune=prune), slots, hand_made


@st.composite
def _faults(draw: st.DrawFn) -> dict[str, Any]:
    """A schedule of trouble: 503s, 429s, slow jobs, answers lost after the change landed."""
    return {
        "error_rate": draw(st.sampled_from([0, 0.1, 0.2])),
        "throttle_rate": draw(st.sampled_from([0, 0.2])),
        "retry_after_s": 0.01,
        "job_rate": draw(st.sampled_from([0, 0.5, 1])),
        "job_delay_ms": draw(st.sampled_from([10, 150])),
        "commit_then_fail_every": draw(st.sampled_from([0, 3, 5])),
        "commit_then_fail_mode": draw(st.sampled_from(["503", "drop"])),
        "seed": draw(st.integers(0, 1000)),
        # A server that honours idempotency keys, or one that ignores them (the re-list path).
        "ignore_idempotency_keys": draw(st.booleans()),
    }


CALM = {"error_rate": 0, "throttle_rate": 0, "job_rate": 0, "commit_then_fail_every": 0}
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def _seeded(slots: dict[str, str], hand_made: int) -> Iterator[RunningSandbox]:
    """A fresh sandbox holding the live state the slots describe, and hand-made exports."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_in_thread(Path(tmp) / "sandbox.db", SandboxConfig(job_delay_ms=0)) as server,
    ):
        server.store.ensure_dataviews([REF, REF2])
        bodies = [b for key in KEYS for b in _seed_bodies(key, slots[key])]
        seed(server.base_url, REF, bodies + [_plain(f"hand-{i}.csv") for i in range(hand_made)])
        yield server


def _hand_made(base_url: str, state: DesiredState) -> list[tuple[Any, ...]]:
    return [e for e in unmarked(base_url, state) if "hand-" in str(e[4])]


def _assert_ended_well(
    base_url: str,
    state: DesiredState,
    slots: dict[str, str],
    hand: list[tuple[Any, ...]],
    copies: list[tuple[str, object]],
) -> None:
    """Plan empty, no key held twice, hand-made exports and protected copies untouched."""
    conflicts = [f"{REF}/{key}" for key, slot in slots.items() if slot == "conflict"]
    assert_converged(base_url, state, conflicts=conflicts)
    assert _copies(base_url) == copies
    assert _hand_made(base_url, state) == ([] if state.scopes[0].prune is Prune.ALL else hand)


def _until_ok(base_url: str, state: DesiredState) -> list[ApplyResult]:
    """Apply, and apply again while it fails, three times at most (as CI reruns would)."""
    results = [apply_now(base_url, state)]
    while not results[-1].ok and len(results) < 3:
        results.append(apply_now(base_url, state))
    return results


def _failures(results: list[ApplyResult]) -> list[str]:
    return [a.message for r in results for a in r.actions() if a.outcome.value == "failed"] + [
        f.detail for r in results for f in r.preflight_failures
    ]


@SETTINGS
@given(_case())
def test_one_apply_converges_from_any_live_state(
    case: tuple[DesiredState, dict[str, str], int],
) -> None:
    state, slots, hand_made = case
    with _seeded(slots, hand_made) as server:
        hand, copies = _hand_made(server.base_url, state), _copies(server.base_url)
        result = apply_now(server.base_url, state)
        assert result.ok, _failures([result])
        _assert_ended_well(server.base_url, state, slots, hand, copies)


@SETTINGS
@given(_case(), _faults())
def test_applies_under_faults_converge_within_three_runs(
    case: tuple[DesiredState, dict[str, str], int], faults: dict[str, Any]
) -> None:
    state, slots, hand_made = case
    with _seeded(slots, hand_made) as server:
        hand, copies = _hand_made(server.base_url, state), _copies(server.base_url)
        server.set_faults(**faults)
        results = _until_ok(server.base_url, state)
        assert results[-1].ok, _failures(results)
        server.set_faults(**CALM)
        _assert_ended_well(server.base_url, state, slots, hand, copies)


@settings(SETTINGS, max_examples=8)
@given(_case(), _faults())
def test_two_applies_at_once_under_faults_converge(
    case: tuple[DesiredState, dict[str, str], int], faults: dict[str, Any]
) -> None:
    state, slots, hand_made = case
    with _seeded(slots, hand_made) as server:
        hand, copies = _hand_made(server.base_url, state), _copies(server.base_url)
        server.set_faults(**faults)
        runs: list[list[ApplyResult]] = [[], []]
        start = threading.Barrier(2)

        def one(i: int) -> None:
            start.wait()
            # Planned while the other run was half way through a replace, a
            # protected copy can look like the export to replace: refused before
            # sending anything, as the CLI does (exit 1); the rerun below plans
            # what is there once both are done.
            with contextlib.suppress(ApplyRefusedError):
                runs[i] = _until_ok(server.base_url, state)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.set_faults(**CALM)
        # Both runs together converge; a lone failure of the first is fine if a rerun cures it.
        final = _until_ok(server.base_url, state)
        assert final[0].ok, _failures([*runs[0], *runs[1], *final])
        _assert_ended_well(server.base_url, state, slots, hand, copies)
