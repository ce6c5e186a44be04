"""exportctl: a declarative reconciler for data exports, one provider per platform.

The public surface is deliberately small; everything else is private and may
change between releases. It is the core's vocabulary only: each provider's
own types live in its package under ``reconciler.providers``.
"""

from reconciler.diagnostics import Diagnostic, SourceLocation
from reconciler.errors import ExportctlError
from reconciler.model import DesiredState, LiveRun, LiveScope, Prune, Scope, ScopeSpec, SnapshotSpec
from reconciler.plan import Action, Change, FieldChange, Plan, ScopePlan

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
