"""The public surface is pinned: growing it is a decision, not an accident."""

import reconciler


def test_public_names_are_exactly_these() -> None:
    assert sorted(reconciler.__all__) == [
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


def test_every_public_name_is_importable() -> None:
    for name in reconciler.__all__:
        assert getattr(reconciler, name).__name__ == name
