"""Random manifests over random live states: one apply converges, with no duplicate key.

Live states are seeded through the API: hand-made (unmarked) exports, marked
ones with stale markers, duplicates of a key (a crash between a POST and its
answer), renamed keys, and exports to delete. Each example gets its own
server over a fresh database.
"""

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.identity import MARKER_FIELD
from reconciler.model import DesiredState, Prune
from reconciler.providers.mammoth.model import ExportSpec
from reconciler.sandbox.config import SandboxConfig
from tests.apply.convergence import assert_converged, unmarked
from tests.apply.helpers import REF, REF2, apply_now, desired, s3, seed, spec
from tests.sandboxes import serve_in_thread

KEYS = ("k0", "k1", "k2", "k3", "k4")
# What a key's slot holds before apply; files are per key, so seeds never clash.
SLOTS = ("empty", "unmarked", "stale", "duplicate", "renamed", "moved")


def _marked(key: str, file: str) -> dict[str, Any]:
    marker = {MARKER_FIELD: {"key": key, "applied": "v1:00:stale:stale"}}
    return {**_plain(file), "additional_properties": marker}


def _plain(file: str) -> dict[str, Any]:
    return {"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": file}}


def _seed_bodies(key: str, slot: str) -> list[dict[str, Any]]:
    file = f"{key}.csv"
    return {
        "empty": [],
        "unmarked": [_plain(file)],
        "stale": [_marked(key, file)],
        "duplicate": [_marked(key, f"{key}-dup.csv"), _marked(key, file)],
        "renamed": [_marked(f"old-{key}", file)],
        "moved": [_marked(key, f"{key}-moved.csv")],
    }[slot]


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
    hand_made = draw(st.integers(0, 2))
    # The second dataview gets S3 copies: a dataset name is unique per project.
    copies = [s3(e.key, f"{e.key}.csv", suspended=e.suspended) for e in exports[:2]]
    return desired((REF, exports), (REF2, copies), prune=prune), slots, hand_made


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_case())
def test_one_apply_converges_from_any_live_state(
    case: tuple[DesiredState, dict[str, str], int],
) -> None:
    state, slots, hand_made = case
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_in_thread(Path(tmp) / "sandbox.db", SandboxConfig(job_delay_ms=0)) as server,
    ):
        server.store.ensure_dataviews([REF, REF2])
        bodies = [b for key in KEYS for b in _seed_bodies(key, slots[key])]
        seed(server.base_url, REF, bodies + [_plain(f"hand-{i}.csv") for i in range(hand_made)])
        hand = [e for e in unmarked(server.base_url, state) if "hand-" in str(e[4])]
        result = apply_now(server.base_url, state)
        assert result.ok, [a.message for a in result.actions()] + [
            f.detail for f in result.preflight_failures
        ]
        assert_converged(server.base_url, state)
        left = [e for e in unmarked(server.base_url, state) if "hand-" in str(e[4])]
        assert left == ([] if state.scopes[0].prune is Prune.ALL else hand)
