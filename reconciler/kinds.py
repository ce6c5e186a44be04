"""What the planner must know about one kind of declarative resource, from its provider.

The planner matches desired resources to live ones, compares them and
decides add, edit, replace, delete or adopt the same way for every platform.
What differs per platform is behind a ``ResourceKind``: how a resource looks
in comparable form (the server's defaults filled in, secrets taken out, the
fields it owns left out), where its ownership marker is kept, which fields
name where it writes (its natural address, for adoption), and which changes
the API cannot make in place.

A provider's manifest section attaches its kind to each ``ScopeSpec``, so
the core never imports a provider to plan.
"""

from __future__ import annotations

from typing import Any, Protocol

from reconciler.identity import Marker
from reconciler.model import DesiredResource, ListedResource
from reconciler.normalize import CompareOptions, Normalized

__all__ = ["ResourceKind"]


class ResourceKind(Protocol):
    """The planner's questions about one kind of resource."""

    type_field: str  # the field naming a resource's type ("handler_type")

    def options(self, desired: DesiredResource) -> CompareOptions:
        """How ``desired`` is compared (its ``ignore_changes``, ``sensitive``, ...)."""
        ...

    def normalize_desired(
        self, desired: DesiredResource, options: CompareOptions | None = None
    ) -> Normalized:
        """The comparable form of a desired resource (``options`` default to its own)."""
        ...

    def normalize_live(self, live: ListedResource, options: CompareOptions) -> Normalized:
        """The comparable form of a live resource, compared as ``options`` say."""
        ...

    def created_form(self, desired: DesiredResource) -> Normalized:
        """What an add writes, as a plan lists it (fields that say nothing left out)."""
        ...

    def marker(self, live: ListedResource) -> Marker | None:
        """The ownership marker the resource carries, or ``None`` when it has none."""
        ...

    def address(self, resource: DesiredResource | ListedResource) -> tuple[Any, ...] | None:
        """Where the resource writes (its natural address), or ``None`` when unknown."""
        ...

    def label(self, live: ListedResource) -> str:
        """A name for a live resource without a marker: its destination, else its id."""
        ...

    def replace_reason(self, desired: DesiredResource, live: ListedResource) -> str | None:
        """Why ``live`` cannot be updated into ``desired`` in place, or ``None``."""
        ...

    def fingerprint(self, live: ListedResource) -> Any:
        """The JSON-able facts of ``live`` a saved plan depends on (not its run status)."""
        ...
