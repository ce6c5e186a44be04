"""The pure planner: ``make_plan(desired, live) -> Plan``, no I/O.

Per dataview, in manifest order:

1. Live exports with status ``deleted`` are ignored; the rest are sorted by id.
2. Marked exports are matched to desired ones by their marker key. Several live
   exports with one key (a crash between a POST and its answer) keep the
   lowest id; the others are deleted whatever ``prune`` says: they are ours.
3. A desired export still unmatched takes a live one writing to the same
   natural address (handler type + destination): first a marked export whose
   key left the manifest (a renamed key: *adopt*, not delete + add, which
   would fail on the server's "file already written" rule), else an unmarked
   one (*adopt*: apply writes the marker).
4. Each matched pair is compared in normalized form (``normalize``): another
   handler type is a *replace*, other differences or a rotated secret an
   *edit*, nothing a *no-op*.
5. Desired exports left are *added*; live ones left are deleted or listed as
   *unmanaged* according to ``prune``.

``protect`` refuses a replace, and a delete of an export last applied with
``protect: true`` (its marker records it, see ``identity``), even once its
entry left the manifest. A change of ``protect`` alone is an edit: apply
rewrites the marker. Duplicates from a crash are deleted all the same: they
are copies, and the export they copy stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from deepdiff import DeepDiff

from reconciler.identity import Marker, natural_address, read_marker, secret_digest, spec_digest
from reconciler.model import (
    DataviewRef,
    DataviewSpec,
    DesiredState,
    ExportSpec,
    LiveDataview,
    LiveExport,
    Prune,
)
from reconciler.normalize import (
    Normalized,
    canonical_json,
    digest,
    get_path,
    normalize_desired,
    normalize_live,
    options_for,
)
from reconciler.plan import SENSITIVE, Action, Change, DataviewPlan, DriftKind, FieldChange, Plan

__all__ = ["live_fingerprint", "make_plan", "plan_dataview"]


def make_plan(desired: DesiredState, live: Mapping[DataviewRef, LiveDataview]) -> Plan:
    """Plan every dataview of the manifest against its live exports."""
    dataviews = tuple(plan_dataview(spec, live.get(spec.ref)) for spec in desired.dataviews)
    return Plan(dataviews, manifest_digest=desired.digest)


def plan_dataview(spec: DataviewSpec, live: LiveDataview | None) -> DataviewPlan:
    exports = live.present() if live is not None else []
    matching = _match(spec, exports)
    changes = [_compare(pair) for pair in matching.pairs]
    changes += [_add(export) for export in matching.adds]
    changes += sorted(_leftovers(matching, spec.prune), key=lambda c: c.export_id or 0)
    return DataviewPlan(spec.ref, tuple(changes), live_fingerprint(exports))


def live_fingerprint(present: Sequence[LiveExport]) -> str:
    """A stable hash of what the plan of one dataview depended on.

    ``present`` is the dataview's ``LiveDataview.present()``, already listed
    for planning, so it is filtered and sorted once. Covers each export's id,
    compared fields, marker and whether it is suspended. Run-time status
    changes (executing -> executed), times and run results are left out, so a
    pipeline run does not make a saved plan stale.
    """
    # One JSON array per export, fields in a fixed order: cheaper to encode
    # than an object per export. FrozenDicts and tuples serialize as JSON
    # objects and arrays as they are.
    records = [
        (
            e.id,
            e.suspended,
            e.handler_type,
            e.trigger_type,
            e.sequence,
            e.end_of_pipeline,
            e.target_properties,
            e.condition,
            e.additional_properties,
        )
        for e in present
    ]
    return digest(canonical_json(records))


@dataclass
class _Pair:
    desired: ExportSpec
    live: LiveExport
    marker: Marker | None
    renamed_from: str | None = None  # set when matched by address to another key


@dataclass
class _Matching:
    pairs: list[_Pair] = field(default_factory=list)
    adds: list[ExportSpec] = field(default_factory=list)
    duplicates: list[tuple[LiveExport, str, int]] = field(default_factory=list)
    orphans: list[tuple[LiveExport, str]] = field(default_factory=list)
    unmarked: list[LiveExport] = field(default_factory=list)


def _match(spec: DataviewSpec, exports: list[LiveExport]) -> _Matching:
    result = _Matching()
    by_key: dict[str, list[tuple[LiveExport, Marker]]] = {}
    for export in exports:
        marker = read_marker(export)
        if marker is None:
            result.unmarked.append(export)
        else:
            by_key.setdefault(marker.key, []).append((export, marker))
    wanted = {s.key for s in spec.exports}
    for key, found in by_key.items():
        kept = found[0][0].id
        result.duplicates += [(export, key, kept) for export, _ in found[1:]]
        if key not in wanted:
            result.orphans.append((found[0][0], key))
    unmatched: list[ExportSpec] = []
    for desired in spec.exports:
        if desired.key in by_key:
            export, marker = by_key[desired.key][0]
            result.pairs.append(_Pair(desired, export, marker))
        else:
            unmatched.append(desired)
    _match_by_address(unmatched, result)
    return result


def _match_by_address(unmatched: list[ExportSpec], result: _Matching) -> None:
    """Adopt live exports that write where an unmatched desired export would."""
    orphans = _by_address(export for export, _ in result.orphans)
    unmarked = _by_address(result.unmarked)
    keys = {export.id: key for export, key in result.orphans}
    for desired in unmatched:
        address = natural_address(desired.handler_type, desired.target_properties)
        if address is not None and orphans.get(address):
            export = orphans[address].pop(0)
            result.orphans.remove((export, keys[export.id]))
            marker = read_marker(export)
            result.pairs.append(_Pair(desired, export, marker, renamed_from=keys[export.id]))
        elif address is not None and unmarked.get(address):
            export = unmarked[address].pop(0)
            result.unmarked.remove(export)
            result.pairs.append(_Pair(desired, export, None))
        else:
            result.adds.append(desired)


def _by_address(exports: Iterable[LiveExport]) -> dict[tuple[object, ...], list[LiveExport]]:
    """Live exports by natural address, lowest id first (the input is sorted by id)."""
    index: dict[tuple[object, ...], list[LiveExport]] = {}
    for export in exports:
        address = natural_address(export.handler_type, export.target_properties)
        if address is not None:
            index.setdefault(address, []).append(export)
    return index


def _compare(pair: _Pair) -> Change:
    options = options_for(pair.desired)
    desired = normalize_desired(pair.desired, options)
    live = normalize_live(pair.live, options)
    visible = _field_changes(live, desired) if live.form != desired.form else []
    rotated = _secret_changes(desired, pair.marker, {f.path for f in visible})
    fields = visible + rotated
    action, reason = _action_and_reason(pair, len(visible), bool(rotated))
    drift = None if action is Action.NOOP else _drift(pair, live)
    return Change(
        action=action,
        key=pair.desired.key,
        handler_type=pair.desired.handler_type,
        export_id=pair.live.id,
        reason=reason,
        fields=tuple(fields),
        drift=drift,
        refused=_refusal(pair, action),
        desired=pair.desired,
        live=pair.live,
    )


def _action_and_reason(pair: _Pair, visible: int, secrets_rotated: bool) -> tuple[Action, str]:
    if pair.renamed_from is not None:
        return Action.ADOPT, f"key renamed from {pair.renamed_from!r}"
    if pair.marker is None:
        return Action.ADOPT, "unmanaged export writing to the same destination; apply marks it"
    if pair.live.handler_type != pair.desired.handler_type:
        return Action.REPLACE, (
            f"handler_type changes from {pair.live.handler_type!r} to "
            f"{pair.desired.handler_type!r}, which the API cannot change in place"
        )
    if not pair.marker.readable:
        return Action.EDIT, "the exportctl marker is unreadable; apply rewrites it"
    protect_changes = pair.marker.protect != pair.desired.protect
    if not visible and not secrets_rotated and not protect_changes:
        return Action.NOOP, "up to date"
    if not visible and not secrets_rotated:
        verb = "set" if pair.desired.protect else "lifted"
        return Action.EDIT, f"protect is {verb}; apply records it in the exportctl marker"
    parts = (
        [_count(visible, "field") + (" differs" if visible == 1 else " differ")] if visible else []
    )
    if secrets_rotated:
        parts.append("a secret value changed since the last apply")
    return Action.EDIT, "; ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _secrets_rotated(desired: Normalized, marker: Marker | None) -> bool:
    """Whether the desired secrets hash differently from what the marker recorded."""
    if marker is None or marker.salt is None:
        return False
    return secret_digest(desired, marker.salt) != marker.secret_digest


def _secret_changes(
    desired: Normalized, marker: Marker | None, already: set[str]
) -> list[FieldChange]:
    """One redacted change per desired secret when the secrets hash differently.

    # Limitation: the marker holds one hash for all secrets of an export, so a
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


def _refusal(pair: _Pair, action: Action) -> str | None:
    if action is not Action.REPLACE:
        return None
    key = pair.desired.key
    if pair.marker is not None and pair.marker.protect:
        return (
            f"export {key!r} was applied with 'protect: true': to allow this replace, first "
            "apply it with 'protect: false' and its old handler_type, then change the handler_type"
        )
    if pair.desired.protect:
        return (
            f"export {key!r} is protected: to allow this replace, remove "
            "'protect: true' from it in the manifest, then plan and apply again"
        )
    return None


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


def _add(desired: ExportSpec) -> Change:
    return Change(
        action=Action.ADD,
        key=desired.key,
        handler_type=desired.handler_type,
        export_id=None,
        reason="no live export has this key or destination",
        fields=tuple(_created_fields(desired)),
        drift=DriftKind.MISSING,
        desired=desired,
    )


def _created_fields(desired: ExportSpec) -> list[FieldChange]:
    """What an add writes, as Terraform lists a resource to be created.

    One ``None -> value`` change per leaf of the normalized form: defaults
    filled in, secrets redacted as for edits. ``handler_type`` is already on the
    change's line and ``suspended: false`` says nothing, so both are left out.
    ``ignore_changes`` only stops later comparisons, so those fields are shown:
    apply writes them.
    """
    options = replace(options_for(desired), ignore_changes=())
    normalized = normalize_desired(desired, options)
    form = {
        name: value
        for name, value in normalized.form.items()
        if name != "handler_type" and not (name == "suspended" and value is False)
    }
    secret = normalized.secret_paths
    return [_field_change(path, None, value, secret) for path, value in _leaves(form, "")]


def _leaves(value: object, path: str) -> Iterator[tuple[str, object]]:
    """(dotted path, value) of every leaf under a form, in path order.

    Lists and empty objects are leaves, as in an edit's field changes.
    """
    if not (isinstance(value, dict) and value):
        yield path, value
        return
    for name in sorted(value):
        yield from _leaves(value[name], f"{path}.{name}" if path else name)


def _leftovers(matching: _Matching, prune: Prune) -> list[Change]:
    changes = [
        _delete(
            export,
            key,
            f"duplicate of key {key!r} (export #{kept} is kept)",
            DriftKind.NOT_YET_APPLIED,
        )
        for export, key, kept in matching.duplicates
    ]
    for export, key in matching.orphans:
        changes.append(_orphan(export, key, prune))
    for export in matching.unmarked:
        changes.append(_unmarked(export, prune))
    return changes


def _orphan(export: LiveExport, key: str, prune: Prune) -> Change:
    if prune is Prune.NONE:
        reason = f"key {key!r} left the manifest; kept because prune is 'none'"
        return _record(Action.UNMANAGED, export, key, reason, DriftKind.UNMANAGED)
    reason = f"key {key!r} left the manifest (prune: {prune.value})"
    delete = _delete(export, key, reason, DriftKind.NOT_YET_APPLIED)
    marker = read_marker(export)
    if marker is None or not marker.protect:
        return delete
    refusal = (
        f"export {key!r} was applied with 'protect: true': to delete it, put it back in "
        "the manifest with 'protect: false', apply, then remove it"
    )
    return replace(delete, refused=refusal)


def _unmarked(export: LiveExport, prune: Prune) -> Change:
    label = _label(export)
    if prune is Prune.ALL:
        return _delete(export, label, "not managed by exportctl (prune: all)", DriftKind.UNMANAGED)
    reason = "not managed by exportctl and matches nothing in the manifest"
    return _record(Action.UNMANAGED, export, label, reason, DriftKind.UNMANAGED)


def _delete(export: LiveExport, key: str, reason: str, drift: DriftKind | None) -> Change:
    return _record(Action.DELETE, export, key, reason, drift)


def _record(
    action: Action, export: LiveExport, key: str, reason: str, drift: DriftKind | None
) -> Change:
    return Change(
        action=action,
        key=key,
        handler_type=export.handler_type,
        export_id=export.id,
        reason=reason,
        drift=drift,
        live=export,
    )


def _label(export: LiveExport) -> str:
    """A name for an unmarked export: its destination, else its id."""
    address = natural_address(export.handler_type, export.target_properties)
    if address is None:
        return f"{export.handler_type}#{export.id}"
    return f"{export.handler_type}:" + "/".join(str(v) for v in address[1:] if v is not None)
