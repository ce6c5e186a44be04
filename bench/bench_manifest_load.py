"""How long loading a large manifest takes: 5,000 exports over 50 dataviews.

Run by hand: ``python bench/bench_manifest_load.py``. Prints the best of
several runs and the machine it ran on. Target: under one second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from _support import best_of, machine

from reconciler.manifest import load_manifest

DATAVIEWS = 50
EXPORTS_PER_DATAVIEW = 100
RUNS = 5


def manifest_text() -> str:
    """A realistic mix: s3, internal datasets and postgres with an env secret."""
    lines = ["version: 1", "defaults:", "  run_immediately: false", "dataviews:"]
    for view in range(DATAVIEWS):
        lines += [
            "  - workspace_id: 1",
            "    project_id: 1",
            f"    dataset_id: {1000 + view}",
            f"    dataview_id: {2000 + view}",
            "    exports:",
        ]
        lines += [line for i in range(EXPORTS_PER_DATAVIEW) for line in export_lines(view, i)]
    return "\n".join(lines) + "\n"


def export_lines(view: int, index: int) -> list[str]:
    head = [f"      - key: export-{index}"]
    if index % 3 == 0:
        return [
            *head,
            "        handler_type: postgres",
            "        trigger_type: schedule",
            "        target_properties:",
            "          host: pg.example.com",
            "          database: dw",
            f"          table: t_{view}_{index}",
            "          username: writer",
            "          password: ${env:PG_PASSWORD:-sandbox}",
        ]
    if index % 3 == 1:
        return [
            *head,
            "        handler_type: internal_dataset",
            f"        target_properties: {{dataset_name: ds_{view}_{index}}}",
        ]
    return [
        *head,
        "        handler_type: s3",
        "        trigger_type: pipeline",
        "        condition: {status: active}",
        f"        target_properties: {{file: out_{view}_{index}.csv, file_type: csv}}",
        "        ignore_changes: [target_properties.use_format]",
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "exports.yaml"
        path.write_text(manifest_text())
        figures = best_of(RUNS, lambda: load_manifest([path], environ={}))
        state = load_manifest([path], environ={})
        size = path.stat().st_size
    libyaml = "libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure-Python YAML"
    print(f"load_manifest: {state.entry_count()} exports, {size / 1e6:.1f} MB, {libyaml}")
    print(figures)
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
