"""Export templates as the core's ``ResourceKind``: the planner's questions, answered.

Every answer comes from ``templates``, which holds the facts: the comparable
form as the server stores it (``comparable``), the marker in
``configuration.exportctl`` (``marker_of``), the natural address (the name,
unique per user: one scope is one user's templates) and why an update cannot
do (``replace_reasons``). This module only adapts them to the core's types.
"""

from __future__ import annotations

from typing import Any

from reconciler.identity import Marker
from reconciler.model import DesiredResource, ListedResource
from reconciler.normalize import PLAIN_OPTIONS, CompareOptions, Normalized
from reconciler.providers.datatools import templates
from reconciler.providers.datatools.templates import TemplateSpec
from reconciler.providers.datatools.wire import Template

__all__ = ["TEMPLATES", "TemplatesKind", "as_spec", "as_template"]


def as_spec(resource: object) -> TemplateSpec:
    """The core hands back what this provider made; anything else is a programming error."""
    if not isinstance(resource, TemplateSpec):
        raise TypeError(f"not a desired data-tools template: {type(resource).__name__}")
    return resource


def as_template(resource: object) -> Template:
    if not isinstance(resource, Template):
        raise TypeError(f"not a listed data-tools template: {type(resource).__name__}")
    return resource


def _either(resource: object) -> TemplateSpec | Template:
    if isinstance(resource, TemplateSpec | Template):
        return resource
    raise TypeError(f"not a data-tools template: {type(resource).__name__}")


class TemplatesKind:
    """The ``ResourceKind`` of data-tools export templates.

    Templates have no secrets and no ``ignore_changes``: every resource is
    compared with the core's plain options.
    """

    type_field = "template_type"

    def options(self, desired: DesiredResource) -> CompareOptions:
        return PLAIN_OPTIONS

    def normalize_desired(
        self, desired: DesiredResource, options: CompareOptions | None = None
    ) -> Normalized:
        return templates.normalized(as_spec(desired))

    def normalize_live(self, live: ListedResource, options: CompareOptions) -> Normalized:
        return templates.normalized(as_template(live))

    def created_form(self, desired: DesiredResource) -> Normalized:
        """The form without ``template_type`` (on the change's line) or an empty description."""
        form = {
            name: value
            for name, value in templates.comparable(as_spec(desired)).items()
            if name != "template_type" and not (name == "description" and value == "")
        }
        return Normalized(form, ())

    def marker(self, live: ListedResource) -> Marker | None:
        return templates.marker_of(as_template(live))

    def address(self, resource: DesiredResource | ListedResource) -> tuple[Any, ...] | None:
        """The name as stored: what an unmarked template of the same user is adopted by."""
        return ("name", templates.natural_key(_either(resource).name))

    def label(self, live: ListedResource) -> str:
        template = as_template(live)
        return f"{template.name!r} ({template.id})"

    def replace_reason(self, desired: DesiredResource, live: ListedResource) -> str | None:
        reasons = templates.replace_reasons(as_spec(desired), as_template(live))
        return "; ".join(reasons) or None

    def fingerprint(self, live: ListedResource) -> Any:
        t = as_template(live)
        return (t.id, t.name, t.description, t.template_type, t.is_active, t.configuration)


TEMPLATES = TemplatesKind()
