"""``plan --preflight``: the server's verdict on every write, before the merge.

The dry runs are the apply engine's own (``reconciler.apply.preflight``), so a
plan that passes here is one apply's preflight would pass too, unless live or
the server's rules change in between. The verdict joins the plan's JSON form
as ``preflight``, which the text and Markdown views render, so a pull request
shows "this change will be refused" before it is merged.
"""

from __future__ import annotations

import sys

from reconciler.apply.preflight import new_salts, preflight
from reconciler.apply.result import PreflightFailure
from reconciler.apply.result_json import preflight_failure_json
from reconciler.errors import ApplyRefusedError
from reconciler.plan import Plan
from reconciler.plan_json import PlanJson
from reconciler.progress import StatusLine
from reconciler.providers.base import Providers

__all__ = ["PreflightVerdict", "check_writes", "refusal", "with_verdict"]

PreflightVerdict = tuple[int, tuple[PreflightFailure, ...]]  # (dry runs sent, failures)


async def check_writes(providers: Providers, plan: Plan) -> PreflightVerdict:
    """Send every add, edit, adoption and replacement of ``plan`` with validate_only."""
    salts = new_salts(plan)
    status = StatusLine(sys.stderr)
    status.show(f"Preflight: {len(salts)} dry runs (validate_only) sent, waiting for the API...")
    failures = await preflight(providers, plan, salts)
    status.close()
    return len(salts), failures


def with_verdict(plan_json: PlanJson, verdict: PreflightVerdict) -> PlanJson:
    sent, failures = verdict
    return {
        **plan_json,
        "preflight": {"sent": sent, "failures": [preflight_failure_json(f) for f in failures]},
    }


def refusal(verdict: PreflightVerdict) -> ApplyRefusedError | None:
    """The error ``plan`` exits 1 with when any dry run did not pass (listed in the plan)."""
    failures = verdict[1]
    if not failures:
        return None
    count = f"{len(failures)} change{'s' if len(failures) != 1 else ''}"
    return ApplyRefusedError(
        f"Preflight failed for {count} (listed in the plan): apply would stop before "
        "changing anything. Fix the manifest (or the platform) and plan again; a dry run "
        "that got no verdict may simply pass later."
    )
