"""Checks that a saved plan still fits before it is applied (Terraform's stale plan rule).

A saved plan promises to do exactly what it showed. That holds only if the
manifest files are the same version, the secrets resolve to the same values,
and no scope it covers changed since. Then the plan is made again from the
same inputs and must contain the same changes; only the fresh changes (which
carry the desired specs the file does not store) are executed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.errors import PlanFileError, StalePlanError
from reconciler.model import DesiredState, Scope, common_noun, scope_titles
from reconciler.normalize import canonical_json
from reconciler.plan import Change, Plan, ScopePlan
from reconciler.plan_json import plan_to_json
from reconciler.planfile import SavedPlan, secret_address

__all__ = ["check_manifest_version", "check_secrets", "current_secrets", "replay_saved_plan"]

_AGAIN = "Run 'exportctl plan --out FILE' again, review it, and apply the new plan."


def check_manifest_version(saved: SavedPlan, desired: DesiredState, path: str) -> None:
    """Refuse a plan made from other manifest text than the files hold now."""
    if desired.digest == saved.manifest_digest:
        return
    files = ", ".join(saved.sources) or "(none recorded)"
    raise PlanFileError(
        f"Saved plan {path} was made from a different version of the manifest: "
        f"{files} changed since the plan was made ({saved.created_at}). {_AGAIN}"
    )


def check_endpoints(saved: SavedPlan, now: Mapping[str, str], path: str) -> None:
    """Refuse to apply a plan to other APIs than the ones it was made against.

    A plan reviewed against a staging API (or the sandbox) and applied where
    ``--endpoint`` or a base-URL variable now points elsewhere would write
    there what nobody reviewed. Files from before 3.2 recorded no endpoint.
    """
    if saved.endpoints is None:
        return
    moved = [
        (name, made, now[name])
        for name, made in sorted(saved.endpoints.items())
        if name in now and now[name] != made
    ]
    if not moved:
        return
    name, made, current = moved[0]
    raise PlanFileError(
        f"Saved plan {path} was made against the {name} API at {made}, but this apply "
        f"would write to {current}. Apply it where it was made (--sandbox DB for an "
        f"embedded sandbox, else --endpoint or the provider's base URL variable), or plan "
        f"again against {current}. Nothing was changed."
    )


def current_secrets(desired: DesiredState) -> dict[str, str]:
    """Every secret value the manifest resolves to now, by ``secret_address``.

    Non-string secrets (rare: a secret-named object) are hashed in canonical JSON.
    """
    values: dict[str, str] = {}
    for scope_spec in desired.scopes:
        kind = scope_spec.kind
        if kind is None:
            continue  # snapshots: their write-only values are never compared or stored
        for spec in scope_spec.resources:
            for path, value in kind.normalize_desired(spec).secrets:
                text = value if isinstance(value, str) else canonical_json(value)
                values[secret_address(scope_spec.scope, spec.key, path)] = text
    return values


def check_secrets(saved: SavedPlan, secrets: Mapping[str, str], path: str) -> None:
    """Refuse when a secret the plan relied on resolves to another value now.

    Names addresses only (provider:scope/key/path), never a value. A secret gone
    from the manifest is named; a changed one cannot be: the file holds one
    hash over all secrets, so that a guess at any of them costs a full slow
    derivation (see ``reconciler.planfile``), and apply lists every secret the
    plan relied on instead.
    """
    # A secret that is new since the plan needs a manifest change, which the
    # digest check catches; here only the planned ones can have moved.
    missing = [address for address in saved.secret_addresses if address not in secrets]
    # plan --out lists every secret of the scopes it covers, and the manifest
    # text is the same (checked first): one it does not list means the file
    # was edited to skip the check.
    unlisted = sorted(set(secrets) - set(saved.secret_addresses))
    if unlisted:
        raise PlanFileError(
            f"Saved plan {path} does not list secrets that its changes carry:\n"
            f"{_listed(unlisted)}\nThe file was edited or damaged. {_AGAIN}"
        )
    if missing:
        raise PlanFileError(
            f"Saved plan {path} relied on secrets the manifest no longer resolves:\n"
            f"{_listed(missing)}\n{_AGAIN}"
        )
    if saved.secrets_match(secrets):
        return
    raise PlanFileError(
        f"Saved plan {path} was made with other secret values than the environment "
        "resolves now: an environment variable changed since the plan was made. The "
        "plan file keeps one hash over all its secrets, so it cannot tell which one; "
        f"it relied on these:\n{_listed(saved.secret_addresses)}\n{_AGAIN}"
    )


def _listed(addresses: Sequence[str]) -> str:
    return "\n".join(f"  {address}" for address in addresses)


def replay_saved_plan(saved: SavedPlan, fresh: Plan, path: str) -> Plan:
    """The fresh changes that are the saved ones; refuse if live or the changes moved.

    ``fresh`` is planned now from the same manifest. The saved plan may cover
    fewer changes than ``fresh`` (it was made with ``--target``): only the
    saved ones are kept.
    """
    by_scope = {sp.scope: sp for sp in fresh.scopes}
    stale = [
        scope
        for scope, print_ in saved.fingerprints.items()
        if scope not in by_scope or by_scope[scope].live_fingerprint != print_
    ]
    if stale:
        raise StalePlanError(_stale_message(path, saved, stale))
    scopes = tuple(_replay(sp, by_scope[sp.scope], path) for sp in saved.plan.scopes)
    return replace(fresh, scopes=scopes)


def _stale_message(path: str, saved: SavedPlan, stale: list[Scope]) -> str:
    listed = "\n".join(f"  {title}" for title in scope_titles(stale))
    resources, scopes = common_noun(stale), common_noun(stale, of_resources=False)
    return (
        f"Saved plan {path} is stale: the live {resources}s of these {scopes}s changed "
        f"since the plan was made ({saved.created_at}):\n{listed}\n"
        f"Nothing was changed. {_AGAIN}"
    )


def _replay(saved: ScopePlan, fresh: ScopePlan, path: str) -> ScopePlan:
    fresh_changes = [(c, _as_json(fresh, c)) for c in fresh.changes]
    kept: list[Change] = []
    for change in saved.changes:
        wanted = _as_json(saved, change)
        match = next((c for c, form in fresh_changes if _same(form, wanted)), None)
        if match is None:
            raise PlanFileError(
                f"Saved plan {path} no longer matches what apply would do in "
                f"{saved.scope.title}: {change.action.symbol} {change.key} is planned differently "
                f"now. Nothing was changed. {_AGAIN}"
            )
        kept.append(match)
    return replace(fresh, changes=tuple(kept))


def _same(fresh: dict[str, Any], saved: dict[str, Any]) -> bool:
    """Whether a fresh change is the saved one; a wait whose run finished since counts.

    A saved ``wait`` on run R that is now ``fresh`` on R is the plan coming
    true, not a different plan: applying it has nothing left to do.
    """
    if fresh == saved:
        return True
    finished = saved["action"] == "wait" and fresh["action"] == "fresh"
    return finished and (fresh["key"], fresh["id"]) == (saved["key"], saved["id"])


def _as_json(scope_plan: ScopePlan, change: Change) -> dict[str, Any]:
    """One change in its JSON form, the form the file stores it in, without its reason.

    The reason is words about the rest (and a snapshot's says how old a run
    is, which changes by the second); what apply does is all in the rest.
    """
    single = Plan((replace(scope_plan, changes=(change,)),))
    form: dict[str, Any] = plan_to_json(single)["scopes"][0]["changes"][0]
    form.pop("reason")
    return form
