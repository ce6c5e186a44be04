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

A ``--seed`` file with a ``datatools:`` key replaces that built-in seed with
its own users, datasources and templates (``load_seed_file``; the format is
in docs/providers/datatools.md), so a trial can start from data like its own.
Either seed fills a new database only: a restart keeps what the site holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import ConfigError
from reconciler.providers.datatools.sandbox.store import Tx

__all__ = [
    "COLLEAGUE",
    "DATASOURCES",
    "SeedData",
    "check_password",
    "load_seed_file",
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


@dataclass(frozen=True)
class SeedData:
    """A seed file's ``datatools:`` key, checked: rows ready for the tables."""

    users: tuple[tuple[str, str], ...]  # (username, password)
    datasources: tuple[dict[str, Any], ...]  # the table's columns
    templates: tuple[dict[str, Any], ...]  # name, description, user, template_type, configuration


def seed(tx: Tx, now: float, data: SeedData | None = None) -> None:
    """Fill a new database, from ``data`` when given, else the built-in seed.

    A database that has users already is left as it is (every start sets the
    login user after seeding, so only a new database has none).
    """
    if tx.has_users():
        return
    if data is not None:
        for username, password in data.users:
            set_login_user(tx, username, password)
        for datasource in data.datasources:
            tx.add_datasource(datasource)
        for template in data.templates:
            _template(tx, now, **template)
        return
    tx.put_user({"username": SYSTEM_USER, "password_hash": "!", "is_superuser": 1, "can_log_in": 0})
    name, password = COLLEAGUE
    set_login_user(tx, name, password)
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


# -- the seed file's ``datatools:`` key --------------------------------------------------

_TEMPLATE_TYPES = ("user", "shared", "system")


def load_seed_file(path: Path, login_user: str) -> SeedData | None:
    """The ``datatools:`` key of the seed file at ``path``; ``None`` when it has none.

    Other top-level keys are other providers'. Anything malformed is a
    ``ConfigError`` naming the file and the place, raised before the
    database is touched, so a bad seed never leaves a half-seeded site.
    ``login_user`` may own datasources and templates without being listed.
    """
    where = str(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{where}: cannot read the seed file: {error}") from None
    if not isinstance(document, dict) or "datatools" not in document:
        return None
    section = _mapping(
        document["datatools"], where, "datatools", ("users", "datasources", "templates")
    )
    users = tuple(
        (
            _text(item, "username", where, place),
            _text(item, "password", where, place),
        )
        for place, item in _items(section, "users", where, ("username", "password"))
    )
    known_users = {login_user, *(name for name, _ in users)}
    datasources = tuple(
        {
            "id": _uuid(item, where, place),
            "name": _text(item, "name", where, place),
            "owner": _owner(item, where, place, known_users, required=False),
            "row_count": _count(item, "rows", where, place),
        }
        for place, item in _items(section, "datasources", where, ("id", "name", "owner", "rows"))
    )
    fields = ("name", "description", "user", "template_type", "configuration")
    templates = tuple(
        {
            "name": _text(item, "name", where, place),
            "description": _optional_text(item, "description", where, place),
            "user": _owner(item, where, place, known_users, required=True),
            "template_type": _choice(item, "template_type", where, place),
            "configuration": _mapping(item.get("configuration"), where, f"{place}.configuration"),
        }
        for place, item in _items(section, "templates", where, fields)
    )
    return SeedData(users, datasources, templates)


def _problem(where: str, place: str, what: str) -> ConfigError:
    return ConfigError(f"{where}: {place}: {what}. Fix the seed file and start again.")


def _mapping(
    value: Any, where: str, place: str, allowed: tuple[str, ...] | None = None
) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _problem(where, place, "expected a mapping")
    if allowed is not None:
        for name in value:
            if name not in allowed:
                raise _problem(
                    where, f"{place}.{name}", f"unknown key; expected {', '.join(allowed)}"
                )
    return value


def _items(
    section: Mapping[str, Any], name: str, where: str, allowed: tuple[str, ...]
) -> list[tuple[str, Mapping[str, Any]]]:
    """``datatools.NAME``'s entries with their places; a missing list is an empty one."""
    items = section.get(name) or []
    if not isinstance(items, list):
        raise _problem(where, f"datatools.{name}", "expected a list")
    found = []
    for index, item in enumerate(items):
        place = f"datatools.{name}[{index}]"
        found.append((place, _mapping(item, where, place, allowed)))
    return found


def _text(item: Mapping[str, Any], name: str, where: str, place: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise _problem(where, f"{place}.{name}", "expected a non-empty string")
    return value


def _optional_text(item: Mapping[str, Any], name: str, where: str, place: str) -> str:
    return _text(item, name, where, place) if item.get(name) is not None else ""


def _uuid(item: Mapping[str, Any], where: str, place: str) -> str:
    text = _text(item, "id", where, place)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise _problem(where, f"{place}.id", f"{text!r} is not a UUID") from None


def _count(item: Mapping[str, Any], name: str, where: str, place: str) -> int:
    value = item.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _problem(where, f"{place}.{name}", "expected an integer >= 0")
    return value


def _owner(
    item: Mapping[str, Any], where: str, place: str, known: set[str], *, required: bool
) -> str | None:
    field = "user" if required else "owner"
    if not required and item.get(field) is None:
        return None  # the login user's, whoever that is at this start
    name = _text(item, field, where, place)
    if name not in known:
        raise _problem(
            where, f"{place}.{field}", f"{name!r} is not the login user or a seeded user"
        )
    return name


def _choice(item: Mapping[str, Any], name: str, where: str, place: str) -> str:
    value = item.get(name, "user")
    if value not in _TEMPLATE_TYPES:
        raise _problem(where, f"{place}.{name}", f"expected one of {', '.join(_TEMPLATE_TYPES)}")
    return str(value)
