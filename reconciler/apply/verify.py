"""After a scope's writes: list it again, and say done only when the listing agrees.

Two things can leave a second copy of a resource that no answer told apply
about: an add whose answer was lost (its job slower than the look that
followed), and another apply of the same manifest writing the same key at the
same time. Neither can be seen from this apply's answers alone, so once a
scope's steps are over it is listed once more and each key it wrote is looked
at, with the planner's own rule for copies (``planner.split_copies``):

- copies of our own write (the marker this apply wrote) beyond the one kept
  are deleted: a lost answer's late copy, or, when another apply's copy is the
  one kept, ours (the loser removes its own copy and says so);
- a key no resource carries with the spec just written is a failure: the
  write did not stick (another writer changed it since);
- an add with sends whose answers were lost and that the listing still does
  not account for is a failure too: that write may land after we looked, and
  exit 0 would promise a convergence the server has not shown. The server's
  confirmation that it runs a write once (``Written.once``: it echoed the
  idempotency key) settles that doubt instead.

Deletes are checked by absence. Copies of another apply's marker are left to
that apply (or to the next plan, which deletes them by the same rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.identity import Marker
from reconciler.kinds import ResourceKind
from reconciler.model import ListedResource, LiveScope
from reconciler.normalize import CompareOptions
from reconciler.planner import split_copies

__all__ = ["Checked", "WriteRecord", "check_writes"]


@dataclass(frozen=True)
class WriteRecord:
    """One add or edit this apply made, as the check after the scope needs it."""

    key: str
    applied: str  # the marker's ``applied`` value this apply wrote
    spec_digest: str  # the written spec's hash: any copy of it will do
    options: CompareOptions
    resource_id: str | None  # what apply reported
    unanswered: int = 0  # sends whose answers were lost and no listing showed
    creates: bool = False  # an add: lost sends may have made copies
    made_one: bool = True  # False: the server refused ours as a copy of what is there
    once: bool = False  # the server confirmed it runs this write once


@dataclass(frozen=True)
class Checked:
    """What the listing said about one write: copies to remove, or a problem."""

    key: str
    resource_id: str | None  # the resource that holds the key now
    remove: tuple[ListedResource, ...] = ()
    lost_race: bool = False  # another apply's copy is kept; ``remove`` holds ours
    problem: str | None = None


def check_writes(
    kind: ResourceKind, live: LiveScope, records: Sequence[WriteRecord], noun: str
) -> list[Checked]:
    """Judge each write of one scope against a fresh listing of it (pure: no I/O)."""
    by_key: dict[str, list[tuple[ListedResource, Marker]]] = {}
    for resource in live.present():
        marker = kind.marker(resource)
        if marker is not None:
            by_key.setdefault(marker.key, []).append((resource, marker))
    return [_check(kind, by_key.get(record.key, []), record, noun) for record in records]


def _check(
    kind: ResourceKind,
    found: list[tuple[ListedResource, Marker]],
    record: WriteRecord,
    noun: str,
) -> Checked:
    if not any(marker.spec_digest == record.spec_digest for _, marker in found):
        return Checked(
            record.key,
            record.resource_id,
            problem=(
                f"the listing afterwards shows no {noun} with key {record.key!r} as it was "
                "just written (another writer may have changed it). Run 'exportctl plan' "
                "to see what is there"
            ),
        )
    copies = split_copies(kind, found, record.options)
    kept, kept_marker = copies.kept
    ours = [resource for resource, marker in copies.own if marker.applied == record.applied]
    seen = len(ours) + (kept_marker.applied == record.applied)
    expected = record.made_one + record.unanswered
    if record.creates and not record.once and seen < expected:
        missing = expected - seen
        return Checked(
            record.key,
            kept.resource_id,
            tuple(ours),
            problem=(
                f"{_sends(missing)} of this add got no answer and the listing does not show "
                "what became of it: it may still land as a second copy. Run 'exportctl "
                "apply' again in a minute; it removes any copy it finds"
            ),
        )
    lost_race = bool(ours) and kept_marker.applied != record.applied
    return Checked(record.key, kept.resource_id, tuple(ours), lost_race=lost_race)


def _sends(count: int) -> str:
    return "1 send" if count == 1 else f"{count} sends"
