"""Seed data: known connections, dataviews, and exports that already exist.

The seed file is YAML (see docs/sandbox.md)::

    connections: [postgres_prod, warehouse]
    dataviews:
      - {workspace_id: 1, project_id: 1, dataset_id: 123, dataview_id: 456,
         exports: [{handler_type: s3, trigger_type: none, run_immediately: false,
                    target_properties: {file: legacy.csv}}]}

Loading it again into the same database is harmless: a dataview's seed
exports are added only when the seed creates that dataview, so a restarted
server does not grow duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.pipeline import apply_action
from reconciler.providers.mammoth.sandbox.store import Store, Tx
from reconciler.providers.mammoth.sandbox.validation import parse_add_spec
from reconciler.sandbox.problems import HttpProblem

__all__ = ["SeedError", "add_exports", "load_seed"]

_REF_FIELDS = ("workspace_id", "project_id", "dataset_id", "dataview_id")


class SeedError(ValueError):
    """The seed file cannot be used; the message names the file and the place in it."""


def load_seed(store: Store, path: str | Path) -> None:
    where = str(path)
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SeedError(f"{where}: cannot read the seed file: {error}") from None
    if not isinstance(document, dict):
        raise SeedError(f"{where}: expected a mapping with 'connections' and 'dataviews'")
    connections = document.get("connections") or []
    if not isinstance(connections, list) or not all(isinstance(c, str) for c in connections):
        raise SeedError(f"{where}: connections: expected a list of connection ids (strings)")
    store.add_connections(connections)
    dataviews = document.get("dataviews") or []
    if not isinstance(dataviews, list):
        raise SeedError(f"{where}: dataviews: expected a list")
    with store.write() as tx:
        for index, entry in enumerate(dataviews):
            _seed_dataview(tx, entry, f"{where}: dataviews[{index}]")


def _seed_dataview(tx: Tx, entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(n), int) and not isinstance(entry.get(n), bool) for n in _REF_FIELDS
    ):
        raise SeedError(f"{where}: expected integer {', '.join(_REF_FIELDS)}")
    exports = entry.get("exports") or []
    if not isinstance(exports, list):
        raise SeedError(f"{where}.exports: expected a list of AddExportSpec objects")
    ref = DataviewRef(*(entry[n] for n in _REF_FIELDS))
    if tx.add_dataview(ref):
        _add_all(tx, ref, exports, f"{where}.exports")


def add_exports(store: Store, ref: DataviewRef, bodies: Iterable[Mapping[str, Any]]) -> list[int]:
    """Add many exports in one transaction (fast seeding for tests and benches).

    Each body is an AddExportSpec; ``DATAVIEW_ID`` and ``run_immediately``
    may be left out. The dataview is created if needed. Returns the new ids.
    """
    with store.write() as tx:
        tx.add_dataview(ref)
        return _add_all(tx, ref, list(bodies), "exports")


def _add_all(tx: Tx, ref: DataviewRef, bodies: list[Any], where: str) -> list[int]:
    ids = []
    for index, body in enumerate(bodies):
        if not isinstance(body, Mapping):
            raise SeedError(f"{where}[{index}]: expected an AddExportSpec object")
        full = {"DATAVIEW_ID": ref.dataview_id, "run_immediately": False, **body}
        try:
            spec = parse_add_spec(full, ref.dataview_id)
            result = apply_action(tx, {"op": "add", "ref": list(_ref_tuple(ref)), "spec": spec})
        except HttpProblem as problem:
            raise SeedError(f"{where}[{index}]: {problem.detail}") from None
        ids.append(result["trigger_id"])
    return ids


def _ref_tuple(ref: DataviewRef) -> tuple[int, int, int, int]:
    return (ref.workspace_id, ref.project_id, ref.dataset_id, ref.dataview_id)
