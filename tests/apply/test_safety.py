"""protect and --max-deletes refuse the whole apply with a message that explains."""

import pytest

from reconciler.apply.safety import check_safety
from reconciler.errors import ApplyRefusedError
from reconciler.plan import Action, Change, Plan, ScopePlan
from reconciler.providers.mammoth.model import DataviewRef
from tests.apply.helpers import apply_now, desired, plan_now, s3
from tests.sandboxes import RunningSandbox

REF = DataviewRef(1, 1, 123, 456)


def _plan(*changes: Change) -> Plan:
    return Plan((ScopePlan(REF.scope, changes),))


def _change(action: Action, key: str, export_id: int | None, refused: str | None = None) -> Change:
    resource_id = None if export_id is None else str(export_id)
    return Change(action, key, "s3", resource_id, reason="", refused=refused)


PROTECTED = _plan(
    _change(Action.REPLACE, "sales", 7, refused="protect is set; a replace deletes it"),
    _change(Action.ADD, "new", None),
)
THREE_DELETES = _plan(
    _change(Action.DELETE, "a", 1),
    _change(Action.REPLACE, "b", 2),
    _change(Action.DELETE, "c", 3),
)


@pytest.mark.parametrize(
    ("plan", "max_deletes", "message"),
    [
        (
            PROTECTED,
            None,
            "apply refused: 1 change would delete a protected export:\n"
            "  dataview 1/1/123/456: -/+ sales (export 7): protect is set; a replace deletes it\n"
            "Nothing was changed. If this is intended, lift the protection as each line "
            "says; otherwise change the manifest so they are kept, or leave them out "
            "with --exclude.",
        ),
        (
            THREE_DELETES,
            2,
            "apply refused: the plan deletes 3 exports, more than --max-deletes 2 allows:\n"
            "  dataview 1/1/123/456: - a (export 1)\n"
            "  dataview 1/1/123/456: -/+ b (export 2)\n"
            "  dataview 1/1/123/456: - c (export 3)\n"
            "Nothing was changed. Check the plan; if these deletes are intended, apply "
            "again with --max-deletes 3.",
        ),
    ],
)
def test_refusals_say_which_exports_and_how_to_proceed(
    plan: Plan, max_deletes: int | None, message: str
) -> None:
    with pytest.raises(ApplyRefusedError) as caught:
        check_safety(plan, max_deletes=max_deletes)
    assert caught.value.message == message


@pytest.mark.parametrize("max_deletes", [None, 3, 10])
def test_deletes_within_the_limit_pass(max_deletes: int | None) -> None:
    check_safety(THREE_DELETES, max_deletes=max_deletes)


def test_max_deletes_zero_refuses_even_one_delete() -> None:
    with pytest.raises(ApplyRefusedError):
        check_safety(_plan(_change(Action.DELETE, "a", 1)), max_deletes=0)


def test_a_protected_export_survives_leaving_the_manifest_until_protect_is_lifted(
    sandbox: RunningSandbox,
) -> None:
    sandbox.store.ensure_dataviews([REF])
    apply_now(sandbox.base_url, desired((REF, [s3("keep", "keep.csv", protect=True)])))
    with pytest.raises(ApplyRefusedError, match="was applied with 'protect: true'"):
        apply_now(sandbox.base_url, desired((REF, [])))
    lifted = desired((REF, [s3("keep", "keep.csv")]))
    assert [c.action for _, c in plan_now(sandbox.base_url, lifted).changes()] == [Action.EDIT]
    assert apply_now(sandbox.base_url, lifted).ok
    assert apply_now(sandbox.base_url, desired((REF, []))).ok
    assert not plan_now(sandbox.base_url, desired((REF, []))).has_changes
