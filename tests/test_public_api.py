"""The public surface is pinned: growing it is a decision, not an accident."""

import reconciler


def test_public_names_are_exactly_these() -> None:
    assert sorted(reconciler.__all__) == [
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


def test_every_public_name_is_importable() -> None:
    for name in reconciler.__all__:
        assert getattr(reconciler, name).__name__ == name
