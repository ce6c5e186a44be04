"""exportctl: declarative reconciler for Mammoth Analytics dataview exports.

The public surface is deliberately small; everything else is private and may
change between releases.
"""

from reconciler.diagnostics import Diagnostic, SourceLocation
from reconciler.errors import ExportctlError
from reconciler.model import (
    DataviewRef,
    DataviewSpec,
    DesiredState,
    ExportSpec,
    LiveDataview,
    LiveExport,
    Prune,
)
from reconciler.plan import Action, Change, DataviewPlan, FieldChange, Plan

__all__ = [
    "Action",
    "Change",
    "DataviewPlan",
    "DataviewRef",
    "DataviewSpec",
    "DesiredState",
    "Diagnostic",
    "ExportSpec",
    "ExportctlError",
    "FieldChange",
    "LiveDataview",
    "LiveExport",
    "Plan",
    "Prune",
    "SourceLocation",
]
