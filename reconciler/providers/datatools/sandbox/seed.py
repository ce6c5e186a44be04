"""What a new sandbox database holds: users, datasources and other users' templates.

- the login user (``DATATOOLS_USERNAME``/``DATATOOLS_PASSWORD`` when the app
  is made, else ``sandbox``/``sandbox``), set again at every start so the
  environment decides the password;
- ``colleague`` (password ``colleague``), a second user who owns a private
  template (invisible to others) and a shared one (visible, not theirs to
  change), so tests can see other users' templates kept apart;
- ``system``, an administrator who cannot log in and owns the four system
  templates the project creates by default (``create_default_templates``);
- three datasources with fixed ids: ``sales`` (120 rows) and ``empty`` (no
  rows: its jobs fail with "No data available for export"), both the login
  user's, and ``colleague-private``, which the login user may not export.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from reconciler.providers.datatools.sandbox.store import Tx

__all__ = [
    "COLLEAGUE",
    "DATASOURCES",
    "check_password",
    "password_hash",
    "seed",
    "set_login_user",
]

COLLEAGUE = ("colleague", "colleague")
SYSTEM_USER = "system"
DATASOURCES = {
    "sales": "5a1e5000-0000-4000-8000-000000000001",
    "empty": "5a1e5000-0000-4000-8000-000000000002",
    "colleague-private": "5a1e5000-0000-4000-8000-000000000003",
}
_ITERATIONS = 1000  # a sandbox, not a vault: fast tests matter more than slow hashing

_SYSTEM_TEMPLATES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "CSV - Full Export",
        "Export all data to CSV format with headers",
        {
            "format": "csv",
            "include_headers": True,
            "filters": {},
            "options": {"delimiter": ",", "encoding": "utf-8"},
        },
    ),
    (
        "JSON - Full Export",
        "Export all data to JSON format",
        {"format": "json", "filters": {}, "options": {"indent": 2, "ensure_ascii": False}},
    ),
    (
        "Parquet - Optimized Export",
        "Export data to Parquet format for analytics",
        {"format": "parquet", "filters": {}, "options": {"compression": "snappy"}},
    ),
    (
        "Excel - Report Export",
        "Export data to Excel format with formatting",
        {
            "format": "excel",
            "include_headers": True,
            "filters": {},
            "options": {"sheet_name": "Data Export", "index": False},
        },
    ),
)
_COLLEAGUE_TEMPLATES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("Team KPIs", "Shared by a colleague", "shared", {"format": "csv", "filters": {"limit": 50}}),
    ("Scratch", "A colleague's own", "user", {"format": "json"}),
)


def password_hash(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS).hex()
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    _, iterations, salt, digest = stored.split("$")
    found = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(found.hex(), digest)


def set_login_user(tx: Tx, username: str, password: str) -> None:
    tx.put_user(
        {
            "username": username,
            "password_hash": password_hash(password),
            "is_superuser": 0,
            "can_log_in": 1,
        }
    )


def seed(tx: Tx, now: float) -> None:
    """Fill a new database; a database that has templates already is left as it is."""
    if tx.has_templates():
        return
    tx.put_user({"username": SYSTEM_USER, "password_hash": "!", "is_superuser": 1, "can_log_in": 0})
    name, password = COLLEAGUE
    tx.put_user(
        {
            "username": name,
            "password_hash": password_hash(password),
            "is_superuser": 0,
            "can_log_in": 1,
        }
    )
    for label, rows, owner in (("sales", 120, None), ("empty", 0, None)):
        tx.add_datasource(
            {"id": DATASOURCES[label], "name": label, "owner": owner, "row_count": rows}
        )
    tx.add_datasource(
        {
            "id": DATASOURCES["colleague-private"],
            "name": "colleague-private",
            "owner": name,
            "row_count": 10,
        }
    )
    for title, description, configuration in _SYSTEM_TEMPLATES:
        _template(tx, now, title, description, SYSTEM_USER, "system", configuration)
    for title, description, kind, configuration in _COLLEAGUE_TEMPLATES:
        _template(tx, now, title, description, name, kind, configuration)


def _template(
    tx: Tx,
    now: float,
    name: str,
    description: str,
    user: str,
    template_type: str,
    configuration: dict[str, Any],
) -> None:
    tx.add_template(
        {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": description,
            "user": user,
            "template_type": template_type,
            "is_active": 1,
            "configuration": configuration,
            "created_at": now,
            "updated_at": now,
        }
    )
