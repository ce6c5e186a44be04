"""The request bodies apply sends: Mammoth's ``AddExportSpec`` for adds and edits.

An edit is a POST of the whole spec (the client sets ``DATAVIEW_ID`` and, for
an edit, ``TRIGGER_ID``), so the body is always complete: target defaults filled in, the marker in
``additional_properties``, ``sequence`` only when the manifest sets it (else
the server keeps or picks the position). These bodies carry secret values:
they go to the API and nowhere else (never into a plan, log or error).
"""

from __future__ import annotations

from typing import Any

from reconciler.identity import MARKER_FIELD
from reconciler.model import thaw
from reconciler.normalize import get_path
from reconciler.providers.mammoth.handlers import MASK
from reconciler.providers.mammoth.kind import export_marker, target_defaults
from reconciler.providers.mammoth.model import ExportSpec, LiveExport

__all__ = ["add_body", "edit_body"]


def add_body(spec: ExportSpec, *, salt: str, validate_only: bool = False) -> dict[str, Any]:
    """The body of ``POST .../pipeline/exports`` creating ``spec``."""
    target = {k: v for k, v in thaw(spec.target_properties).items() if v is not None}
    body: dict[str, Any] = {
        "handler_type": spec.handler_type,
        "trigger_type": spec.trigger_type,
        "target_properties": {**target_defaults(spec.handler_type), **target},
        "additional_properties": {
            **thaw(spec.additional_properties),
            MARKER_FIELD: export_marker(spec, salt),
        },
        "condition": thaw(spec.condition),
        "end_of_pipeline": spec.end_of_pipeline,
        "run_immediately": spec.run_immediately,
        "validate_only": validate_only,
    }
    if spec.sequence is not None:
        body["sequence"] = spec.sequence
    return body


def edit_body(
    spec: ExportSpec,
    *,
    salt: str,
    validate_only: bool = False,
    live: LiveExport | None = None,
) -> dict[str, Any]:
    """The body of the POST that rewrites an export as ``spec``.

    With ``live``, values at the spec's ``ignore_changes`` paths are kept as the
    server has them (Terraform's ``ignore_changes`` on update), except masked
    secrets, which cannot be sent back.
    """
    body = add_body(spec, salt=salt, validate_only=validate_only)
    if live is not None:
        for path in spec.ignore_changes:
            _keep_live_value(body, live, path)
    return body


def _keep_live_value(body: dict[str, Any], live: LiveExport, path: str) -> None:
    steps = tuple(path.split("."))
    if steps[0] not in ("target_properties", "condition", "additional_properties"):
        return  # Limitation: ignored top-level scalars are sent as the manifest says.
    value = get_path({steps[0]: thaw(getattr(live, steps[0]))}, steps)
    if value is None or value == MASK or not isinstance(body.get(steps[0]), dict):
        return
    node: dict[str, Any] = body
    for name in steps[:-1]:
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            return
        node = child
    node[steps[-1]] = value
