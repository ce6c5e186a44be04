"""How the server shows a template and a job: every field of its serializers.

Timestamps are ``datetime.isoformat()`` in UTC, so ``+00:00`` and
microseconds (when not zero), exactly as Django writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["FINISHED", "iso", "job_json", "template_json"]

FINISHED = ("completed", "failed", "cancelled")  # the model's is_completed


def iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def template_json(row: Mapping[str, Any]) -> dict[str, Any]:
    configuration = row["configuration"]
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "user": row["user"],
        "template_type": row["template_type"],
        "is_active": row["is_active"],
        "configuration": configuration,
        "usage_count": row["usage_count"],
        "format": configuration.get("format", "csv"),
        "has_filters": bool(configuration.get("filters")),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "last_used_at": None,  # nothing in the API ever uses a template
    }


def job_json(row: Mapping[str, Any], datasource_name: str, now: float) -> dict[str, Any]:
    started, completed = row["started_at"], row["completed_at"]
    duration = None if started is None else (completed if completed is not None else now) - started
    return {
        "id": row["id"],
        "user": row["user"],
        "datasource": {"id": row["datasource_id"], "name": datasource_name},
        "status": row["status"],
        "format": row["format"],
        "filters": row["filters"],
        "progress": row["progress"],
        "file_path": row["file_path"],
        "file_size": row["file_size"],
        "row_count": row["row_count"],
        "error_message": row["error_message"],
        "created_at": iso(row["created_at"]),
        "started_at": iso(started),
        "completed_at": iso(completed),
        "expires_at": iso(row["expires_at"]),
        "is_completed": row["status"] in FINISHED,
        "is_expired": row["expires_at"] is not None and now > row["expires_at"],
        "duration_seconds": duration,
    }
