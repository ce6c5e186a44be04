"""A local folder standing in for S3: where a finished sandbox export's file lands.

A user trying the sandbox wants to open what an export "wrote", so each
successful export writes its one file at the key Domo reports,
``<bucket>/<path>/<exportId>/export/data.csv.gz``, under ``root``. Its rows
are made up but fixed by the DataSet's data version, so an export of
unchanged data would hold the same bytes and one after ``bump`` does not.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["LocalS3", "object_key", "s3_folder"]

# A DataSet made without ``columns`` accepts any; its file still needs a header.
_UNNAMED_COLUMNS = ("row",)


def s3_folder(db_path: Path) -> Path:
    """Beside the Domo sandbox's database: ``sandbox-domo.db`` gives ``sandbox-domo-s3/``.

    Beside it, so one ``--db`` keeps all of a sandbox's state in one place.
    """
    return db_path.with_name(f"{db_path.stem}-s3")


def object_key(bucket: str, path: str, export_id: str) -> str:
    """The key Domo's output layout gives an export's file (its URL after ``s3://``)."""
    return f"{bucket}/{path}/{export_id}/export/data.csv.gz"


class LocalS3:
    """Writes export files under ``root``, each key a relative path below it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write_export(self, export: dict[str, Any], dataset_columns: Sequence[str] | None) -> Path:
        """The export's gzip'd CSV, written atomically (a reader never sees half a file)."""
        target = self.root / object_key(export["bucket"], export["path"], export["export_id"])
        target.parent.mkdir(parents=True, exist_ok=True)
        columns = export["columns"] or dataset_columns or _UNNAMED_COLUMNS
        text = _csv(columns, export["row_count"], export["data_version"])
        encoding = "utf-8-sig" if export["include_bom"] else "utf-8"
        # mtime=0: the bytes depend on the data only, not on when the export ran.
        data = gzip.compress(text.encode(encoding), mtime=0)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(data)
        partial.replace(target)
        return target


def _csv(columns: Sequence[str], rows: int, version: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in range(1, rows + 1):
        writer.writerow(f"{column}-{version}-{row}" for column in columns)
    return out.getvalue()
