"""exportctl: a declarative reconciler for data exports, one provider per platform.

The public surface is deliberately small; everything else is private and may
change between releases. It is the core's vocabulary only: each provider's
own types live in its package under ``reconciler.providers``.

Trick (start-up): every ``exportctl`` process imports this package first, and
``exportctl --help`` needs none of these names; they are imported on first
use (PEP 562), which keeps ~30 ms of imports out of ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.diagnostics import Diagnostic, SourceLocation
    from reconciler.errors import ExportctlError
    from reconciler.model import (
        DesiredState,
        LiveRun,
        LiveScope,
        Prune,
        Scope,
        ScopeSpec,
        SnapshotSpec,
    )
    from reconciler.plan import Action, Change, FieldChange, Plan, ScopePlan

# Each public name and the module that defines it.
_HOMES = {
    "Diagnostic": "reconciler.diagnostics",
    "SourceLocation": "reconciler.diagnostics",
    "ExportctlError": "reconciler.errors",
    "DesiredState": "reconciler.model",
    "LiveRun": "reconciler.model",
    "LiveScope": "reconciler.model",
    "Prune": "reconciler.model",
    "Scope": "reconciler.model",
    "ScopeSpec": "reconciler.model",
    "SnapshotSpec": "reconciler.model",
    "Action": "reconciler.plan",
    "Change": "reconciler.plan",
    "FieldChange": "reconciler.plan",
    "Plan": "reconciler.plan",
    "ScopePlan": "reconciler.plan",
}

__all__ = [
    "Action",
    "Change",
    "DesiredState",
    "Diagnostic",
    "ExportctlError",
    "FieldChange",
    "LiveRun",
    "LiveScope",
    "Plan",
    "Prune",
    "Scope",
    "ScopePlan",
    "ScopeSpec",
    "SnapshotSpec",
    "SourceLocation",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
