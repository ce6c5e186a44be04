"""The pure planner: ``make_plan(desired, live) -> Plan``, no I/O.

Snapshot scopes are planned by ``snapshot_planner``. Per declarative scope, in
manifest order, with the facts of the scope's ``ResourceKind``:

1. Live resources the API marks deleted are ignored; the rest keep the
   provider's listed order (Mammoth: by id).
2. Marked resources are matched to desired ones by their marker key. Several
   live resources with one key keep one: the first listed of those unchanged
   since written, else the first listed. The others are deleted
   whatever ``prune`` says only when they are provably copies exportctl left
   (a crash between a POST and its answer, two applies at once): same
   destination as the kept one, unchanged since written, not protected. Any
   other (a copy made by hand, its marker pasted along) is a *conflict*:
   listed as unmanaged and never deleted.
3. A desired resource still unmatched takes a live one writing to the same
   natural address (type + destination): first a marked one whose key left
   the manifest (a renamed key: *adopt*, not delete + add, which would fail on
   a server's "already written" rule), else an unmarked one (*adopt*: apply
   writes the marker).
4. Each matched pair is compared in normalized form: a change the API cannot
   make in place is a *replace*, other differences or a rotated secret an
   *edit*, nothing a *no-op*.
5. Desired resources left are *added*; live ones left are deleted or listed as
   *unmanaged* according to ``prune``.

``protect`` refuses a replace, and a delete of a resource last applied with
``protect: true`` (its marker records it, see ``identity``), even once its
entry left the manifest. A change of ``protect`` alone is an edit: apply
rewrites the marker. Crash copies are deleted all the same: they are copies,
and the resource they copy stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from reconciler.identity import Marker, secrets_unchanged, spec_digest
from reconciler.kinds import ResourceKind
from reconciler.model import (
    DesiredResource,
    DesiredState,
    ListedResource,
    LiveScope,
    Prune,
    Scope,
    ScopeSpec,
)
from reconciler.normalize import (
    PLAIN_OPTIONS,
    CompareOptions,
    Normalized,
    canonical_json,
    digest,
    get_path,
    leaves,
)
from reconciler.plan import SENSITIVE, Action, Change, DriftKind, FieldChange, Plan, ScopePlan
from reconciler.snapshot_planner import plan_snapshots

__all__ = ["Copies", "live_fingerprint", "make_plan", "plan_scope", "split_copies"]


def make_plan(desired: DesiredState, live: Mapping[Scope, LiveScope]) -> Plan:
    """Plan every scope of the manifest against its live resources."""
    scopes = tuple(plan_scope(spec, live.get(spec.scope)) for spec in desired.scopes)
    return Plan(scopes, manifest_digest=desired.digest)


def plan_scope(spec: ScopeSpec, live: LiveScope | None) -> ScopePlan:
    if spec.kind is None:
        return plan_snapshots(spec, live)
    present = live.present() if live is not None else []
    planner = _ScopePlanner(spec.kind, spec.scope.resource_noun)
    matching = planner.match(spec, present)
    changes = [planner.compare(pair) for pair in matching.pairs]
    changes += [planner.add(resource) for resource in matching.adds]
    changes += planner.leftovers(matching, spec.prune, present)
    fingerprint = live_fingerprint(spec.kind, present)
    return ScopePlan(
        spec.scope, tuple(changes), fingerprint, kind=spec.kind, unmanaged=spec.unmanaged
    )


def live_fingerprint(kind: ResourceKind, present: Sequence[ListedResource]) -> str:
    """A stable hash of what the plan of one scope depended on.

    ``present`` is the scope's ``LiveScope.present()``, already listed for
    planning. Covers what the kind's ``fingerprint`` says of each resource
    (Mammoth: id, compared fields, marker, suspended); run-time status changes
    (executing -> executed), times and run results are left out, so a pipeline
    run does not make a saved plan stale.
    """
    return digest(canonical_json([kind.fingerprint(resource) for resource in present]))


class Copies(NamedTuple):
    """Live resources sharing one marker key, sorted out."""

    kept: tuple[ListedResource, Marker]
    own: list[tuple[ListedResource, Marker]]  # provably copies exportctl left: delete them
    conflicts: list[tuple[ListedResource, Marker]]  # made or changed by hand: leave them


def split_copies(
    kind: ResourceKind, found: Sequence[tuple[ListedResource, Marker]], options: CompareOptions
) -> Copies:
    """Which of the resources carrying one key (in listed order) is kept, and what the rest are.

    The kept one is the first listed of those unchanged since written, else the
    first listed. Another is exportctl's own copy (a crash between a POST and
    its answer, two applies at once) only when it writes where the kept one
    writes, still hashes to what its marker says was written (nobody edited
    it), and is not protected; anything else carrying the key was made or
    changed by hand and is not ours to delete. The apply engine's check after
    writing uses the same rule, so the two never disagree.
    """
    if len(found) == 1:
        return Copies(found[0], [], [])

    def changed(item: tuple[ListedResource, Marker]) -> bool:
        resource, marker = item
        return marker.spec_digest != spec_digest(kind.normalize_live(resource, options))

    unchanged = {id(item[0]): not changed(item) for item in found}
    ordered = sorted(found, key=lambda item: not unchanged[id(item[0])])  # stable
    kept = ordered[0]
    address = kind.address(kept[0])
    copies = Copies(kept, [], [])
    for resource, marker in ordered[1:]:
        own = (
            unchanged[id(resource)]
            and not marker.protect
            and address is not None
            and kind.address(resource) == address
        )
        (copies.own if own else copies.conflicts).append((resource, marker))
    return copies


@dataclass
class _Pair:
    desired: DesiredResource
    live: ListedResource
    marker: Marker | None
    renamed_from: str | None = None  # set when matched by address to another key


@dataclass
class _Matching:
    pairs: list[_Pair] = field(default_factory=list)
    adds: list[DesiredResource] = field(default_factory=list)
    duplicates: list[tuple[ListedResource, str, str]] = field(default_factory=list)
    conflicts: list[tuple[ListedResource, str, str]] = field(default_factory=list)
    orphans: list[tuple[ListedResource, str]] = field(default_factory=list)
    unmarked: list[ListedResource] = field(default_factory=list)


class _ScopePlanner:
    """The steps above for one scope, with its kind's facts and its resources' noun."""

    def __init__(self, kind: ResourceKind, noun: str) -> None:
        self.kind = kind
        self.noun = noun

    def match(self, spec: ScopeSpec, present: list[ListedResource]) -> _Matching:
        result = _Matching()
        by_key: dict[str, list[tuple[ListedResource, Marker]]] = {}
        for resource in present:
            marker = self.kind.marker(resource)
            if marker is None:
                result.unmarked.append(resource)
            else:
                by_key.setdefault(marker.key, []).append((resource, marker))
        wanted = {s.key: s for s in spec.resources}
        for key, found in by_key.items():
            options = self.kind.options(wanted[key]) if key in wanted else PLAIN_OPTIONS
            copies = split_copies(self.kind, found, options)
            by_key[key] = [copies.kept]
            kept_id = copies.kept[0].resource_id
            result.duplicates += [(resource, key, kept_id) for resource, _ in copies.own]
            result.conflicts += [(resource, key, kept_id) for resource, _ in copies.conflicts]
            if key not in wanted:
                result.orphans.append((copies.kept[0], key))
        unmatched: list[DesiredResource] = []
        for desired in spec.resources:
            if desired.key in by_key:
                resource, marker = by_key[desired.key][0]
                result.pairs.append(_Pair(desired, resource, marker))
            else:
                unmatched.append(desired)
        self._match_by_address(unmatched, result)
        return result

    def _match_by_address(self, unmatched: list[DesiredResource], result: _Matching) -> None:
        """Adopt live resources that write where an unmatched desired one would."""
        orphans = self._by_address(resource for resource, _ in result.orphans)
        unmarked = self._by_address(result.unmarked)
        keys = {resource.resource_id: key for resource, key in result.orphans}
        for desired in unmatched:
            address = self.kind.address(desired)
            if address is not None and orphans.get(address):
                resource = orphans[address].pop(0)
                result.orphans.remove((resource, keys[resource.resource_id]))
                marker = self.kind.marker(resource)
                renamed = keys[resource.resource_id]
                result.pairs.append(_Pair(desired, resource, marker, renamed_from=renamed))
            elif address is not None and unmarked.get(address):
                resource = unmarked[address].pop(0)
                result.unmarked.remove(resource)
                result.pairs.append(_Pair(desired, resource, None))
            else:
                result.adds.append(desired)

    def _by_address(
        self, resources: Iterable[ListedResource]
    ) -> dict[tuple[object, ...], list[ListedResource]]:
        """Live resources by natural address, in listed order."""
        index: dict[tuple[object, ...], list[ListedResource]] = {}
        for resource in resources:
            address = self.kind.address(resource)
            if address is not None:
                index.setdefault(address, []).append(resource)
        return index

    def compare(self, pair: _Pair) -> Change:
        options = self.kind.options(pair.desired)
        if pair.marker is not None and not pair.marker.sensitive <= options.sensitive:
            # Marked sensitive when written: stays redacted on both sides (``identity``).
            options = replace(options, sensitive=options.sensitive | pair.marker.sensitive)
        desired = self.kind.normalize_desired(pair.desired, options)
        live = self.kind.normalize_live(pair.live, options)
        visible = _field_changes(live, desired) if live.form != desired.form else []
        rotated = _secret_changes(desired, pair.marker, {f.path for f in visible})
        fields = visible + rotated
        action, reason = self._action_and_reason(pair, len(visible), bool(rotated))
        drift = None if action is Action.NOOP else _drift(pair, live)
        return Change(
            action=action,
            key=pair.desired.key,
            type=pair.desired.type,
            resource_id=pair.live.resource_id,
            reason=reason,
            fields=tuple(fields),
            drift=drift,
            refused=self._refusal(pair, action),
            desired=pair.desired,
            live=pair.live,
        )

    def _action_and_reason(
        self, pair: _Pair, visible: int, secrets_rotated: bool
    ) -> tuple[Action, str]:
        # A change the API cannot make in place is a replace even for a resource
        # being adopted: writing the marker alone would leave it unlike the manifest.
        replace_reason = self.kind.replace_reason(pair.desired, pair.live)
        if pair.renamed_from is not None:
            why = f"key renamed from {pair.renamed_from!r}"
            if replace_reason is None:
                return Action.ADOPT, why
            return Action.REPLACE, f"{why}, but {replace_reason}"
        if pair.marker is None:
            why = f"unmanaged {self.noun} writing to the same destination"
            if replace_reason is None:
                return Action.ADOPT, f"{why}; apply marks it"
            return Action.REPLACE, f"{why}, but {replace_reason}"
        if replace_reason is not None:
            return Action.REPLACE, replace_reason
        if not pair.marker.readable:
            return Action.EDIT, "the exportctl marker is unreadable; apply rewrites it"
        protect_changes = pair.marker.protect != pair.desired.protect
        if not visible and not secrets_rotated and not protect_changes:
            return Action.NOOP, "up to date"
        if not visible and not secrets_rotated:
            verb = "set" if pair.desired.protect else "lifted"
            return Action.EDIT, f"protect is {verb}; apply records it in the exportctl marker"
        parts = (
            [_count(visible, "field") + (" differs" if visible == 1 else " differ")]
            if visible
            else []
        )
        if secrets_rotated:
            parts.append("a secret value changed since the last apply")
        return Action.EDIT, "; ".join(parts)

    def _refusal(self, pair: _Pair, action: Action) -> str | None:
        if action is not Action.REPLACE:
            return None
        key, noun, field_name = pair.desired.key, self.noun, self.kind.type_field
        if pair.marker is not None and pair.marker.protect:
            return (
                f"{noun} {key!r} was applied with 'protect: true': to allow this replace, first "
                f"apply it with 'protect: false' and its old {field_name}, then change the "
                f"{field_name}"
            )
        if pair.desired.protect:
            return (
                f"{noun} {key!r} is protected: to allow this replace, remove "
                "'protect: true' from it in the manifest, then plan and apply again"
            )
        return None

    def add(self, desired: DesiredResource) -> Change:
        return Change(
            action=Action.ADD,
            key=desired.key,
            type=desired.type,
            resource_id=None,
            reason=f"no live {self.noun} has this key or destination",
            fields=tuple(self._created_fields(desired)),
            drift=DriftKind.MISSING,
            desired=desired,
        )

    def _created_fields(self, desired: DesiredResource) -> list[FieldChange]:
        """What an add writes, as Terraform lists a resource to be created.

        One ``None -> value`` change per leaf of the kind's created form:
        defaults filled in, secrets redacted as for edits. ``ignore_changes``
        only stops later comparisons, so those fields are shown: apply writes
        them.
        """
        normalized = self.kind.created_form(desired)
        secret = normalized.secret_paths
        return [_field_change(path, None, value, secret) for path, value in leaves(normalized.form)]

    def leftovers(
        self, matching: _Matching, prune: Prune, present: list[ListedResource]
    ) -> list[Change]:
        """Deletes and records for live resources nothing desired took, in listed order."""
        changes = [
            self._record(
                Action.DELETE,
                resource,
                key,
                f"duplicate of key {key!r} ({self.noun} #{kept} is kept)",
                DriftKind.NOT_YET_APPLIED,
            )
            for resource, key, kept in matching.duplicates
        ]
        changes += [
            self._record(
                Action.UNMANAGED,
                resource,
                key,
                f"conflict: carries the marker of key {key!r}, which {self.noun} #{kept} "
                "has, but is no copy exportctl left (it writes elsewhere, was changed "
                "since, or is protected); not deleted. Delete it or remove its exportctl "
                "marker by hand",
                DriftKind.UNMANAGED,
            )
            for resource, key, kept in matching.conflicts
        ]
        for resource, key in matching.orphans:
            changes.append(self._orphan(resource, key, prune))
        for resource in matching.unmarked:
            changes.append(self._unmarked(resource, prune))
        position = {resource.resource_id: i for i, resource in enumerate(present)}
        return sorted(changes, key=lambda c: position.get(c.resource_id or "", -1))

    def _orphan(self, resource: ListedResource, key: str, prune: Prune) -> Change:
        if prune is Prune.NONE:
            reason = f"key {key!r} left the manifest; kept because prune is 'none'"
            return self._record(Action.UNMANAGED, resource, key, reason, DriftKind.UNMANAGED)
        reason = f"key {key!r} left the manifest (prune: {prune.value})"
        delete = self._record(Action.DELETE, resource, key, reason, DriftKind.NOT_YET_APPLIED)
        marker = self.kind.marker(resource)
        if marker is None or not marker.protect:
            return delete
        refusal = (
            f"{self.noun} {key!r} was applied with 'protect: true': to delete it, put it back "
            "in the manifest with 'protect: false', apply, then remove it"
        )
        return replace(delete, refused=refusal)

    def _unmarked(self, resource: ListedResource, prune: Prune) -> Change:
        label = self.kind.label(resource)
        if prune is Prune.ALL:
            reason = "not managed by exportctl (prune: all)"
            return self._record(Action.DELETE, resource, label, reason, DriftKind.UNMANAGED)
        reason = "not managed by exportctl and matches nothing in the manifest"
        return self._record(Action.UNMANAGED, resource, label, reason, DriftKind.UNMANAGED)

    @staticmethod
    def _record(
        action: Action, resource: ListedResource, key: str, reason: str, drift: DriftKind | None
    ) -> Change:
        return Change(
            action=action,
            key=key,
            type=resource.type,
            resource_id=resource.resource_id,
            reason=reason,
            drift=drift,
            live=resource,
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _secrets_rotated(desired: Normalized, marker: Marker | None) -> bool:
    """Whether the desired secrets hash differently from what the marker recorded."""
    if marker is None or marker.salt is None:
        return False
    return secrets_unchanged(desired, marker) is False


def _secret_changes(
    desired: Normalized, marker: Marker | None, already: set[str]
) -> list[FieldChange]:
    """One redacted change per desired secret when the secrets hash differently.

    # Limitation: the marker holds one hash for all secrets of a resource, so a
    # rotation is reported at every secret path, not only the one that changed.
    """
    if not desired.secrets or not _secrets_rotated(desired, marker):
        return []  # no secret paths to report either way: skip the hashing
    return [
        FieldChange(path, SENSITIVE, SENSITIVE, sensitive=True)
        for path in sorted(desired.secret_paths - already)
    ]


def _drift(pair: _Pair, live: Normalized) -> DriftKind:
    if pair.marker is None:
        return DriftKind.UNMANAGED
    if pair.renamed_from is None and pair.marker.spec_digest != spec_digest(live):
        return DriftKind.CHANGED_BY_HAND
    return DriftKind.NOT_YET_APPLIED


def _field_changes(live: Normalized, desired: Normalized) -> list[FieldChange]:
    """Field differences at dotted paths; lists change as a whole."""
    paths: set[tuple[str, ...]] = set()
    for name in sorted(live.form.keys() | desired.form.keys()):
        old, new = live.form.get(name), desired.form.get(name)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            paths.update(_object_paths((name,), old, new))
        else:
            paths.add((name,))
    secret = live.secret_paths | desired.secret_paths
    return [
        _field_change(".".join(p), get_path(live.form, p), get_path(desired.form, p), secret)
        for p in sorted(paths)
    ]


# Two objects sharing fewer than this share of their keys change as a whole
# (deepdiff's default): a replace shows one target_properties line, not ten.
_WHOLE_BELOW = 0.33


def _object_paths(
    prefix: tuple[str, ...], old: dict[str, Any], new: dict[str, Any]
) -> Iterator[tuple[str, ...]]:
    """The paths deepdiff reports between two objects, deepdiff run only where needed.

    deepdiff costs about 0.3 ms a call, too much for thousands of edits, so
    the members are compared here first the way deepdiff compares them (its
    shared-key threshold, then a missing member, another type or an unequal
    value is a change), and deepdiff walks only nested objects and lists.
    Importing deepdiff takes ~40 ms, so it happens only when a nested member
    changed, never in a plan without such changes.
    """
    names = old.keys() | new.keys()
    if len(names) > 1 and len(old.keys() & new.keys()) / len(names) < _WHOLE_BELOW:
        yield prefix
        return
    for name in names:
        if name not in old or name not in new:
            yield (*prefix, name)
            continue
        before, after = old[name], new[name]
        if type(before) is not type(after):
            yield (*prefix, name)
        elif type(before) not in (dict, list):
            if before != after:
                yield (*prefix, name)
        elif before is not after:
            from deepdiff import DeepDiff

            diff = DeepDiff(
                before,
                after,
                ignore_order=False,
                verbose_level=2,
                view="tree",
                threshold_to_diff_deeper=_WHOLE_BELOW,
            )
            for levels in diff.values():
                for level in levels:
                    yield (*prefix, name, *_up_to_list(level.path(output_format="list")))


def _up_to_list(steps: list[object]) -> tuple[str, ...]:
    """Cut a deepdiff path at the first list, so a list changes as one value."""
    kept: list[str] = []
    for step in steps:
        if not isinstance(step, str):
            break
        kept.append(step)
    return tuple(kept)


def _field_change(path: str, old: object, new: object, secret: frozenset[str]) -> FieldChange:
    """A change at ``path``, both values redacted when it touches a secret path."""
    sensitive = bool(secret) and any(_related(path, s) for s in secret)
    if sensitive:
        old = None if old is None else SENSITIVE
        new = None if new is None else SENSITIVE
    return FieldChange(path, old, new, sensitive=sensitive)


def _related(path: str, secret: str) -> bool:
    """Whether a changed path is, lies under, or contains a secret path."""
    return path == secret or secret.startswith(path + ".") or path.startswith(secret + ".")
