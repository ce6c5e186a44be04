"""Saved plans: what ``plan --out FILE`` writes and ``apply FILE`` reads back.

A saved plan is the plan's JSON form wrapped with what apply needs to check it
still fits (``schemas/plan-file.schema.json``): the manifest files it came
from, the live fingerprint per dataview (inside the plan), and a salted, slow
hash of each secret it relied on, so apply can tell a rotated secret without
the file ever holding one. Secret hashing lives here and nowhere else.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # Limitation: no stubs in the venv
from referencing import Registry, Resource

from reconciler._resources import load_schema
from reconciler.errors import PlanFileError
from reconciler.fastcheck import Check, compile_schema, first_problem
from reconciler.model import DataviewRef
from reconciler.plan import Plan
from reconciler.render.json_form import (
    PlanJson,
    check_format_version,
    plan_from_checked_json,
    plan_to_json,
    validate_plan_json,
)

__all__ = [
    "PLAN_FILE_VERSION",
    "SavedPlan",
    "load_plan",
    "save_plan",
    "secret_address",
    "secret_hash",
    "secret_hashes_for",
]

PLAN_FILE_VERSION = "1.0"
_KIND = "exportctl-plan-file"
# Limitation: PBKDF2 at this cost takes ~60 ms per secret; slow enough to make
# guessing a weak password from a leaked plan file costly, fast enough for
# manifests with tens of secrets.
_ITERATIONS = 100_000


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file, with what apply checks before trusting it."""

    plan_json: PlanJson
    plan: Plan
    fingerprints: Mapping[DataviewRef, str]
    secret_hashes: Mapping[str, str]
    sources: tuple[str, ...]
    manifest_digest: str
    created_at: str
    exportctl_version: str

    def secret_matches(self, address: str, value: str) -> bool:
        """Whether ``value`` is the secret the plan was made with at ``address``."""
        stored = self.secret_hashes.get(address)
        return stored is not None and _hash_matches(stored, value, salt=address)


def secret_address(ref: DataviewRef, key: str, path: str) -> str:
    """``W/P/D/V/KEY/PATH``: where a secret sits, the key of ``secret_hashes``.

    Dotted paths hold no ``/``, so the last segment is always the path.
    """
    return f"{ref}/{key}/{path}"


def secret_hash(value: str, salt: str) -> str:
    """``pbkdf2-sha256$ITERATIONS$HEX``: self-describing, so the cost can rise later."""
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), _ITERATIONS)
    return f"pbkdf2-sha256${_ITERATIONS}${digest.hex()}"


def secret_hashes_for(values: Mapping[str, str]) -> dict[str, str]:
    """Hash each secret (address -> value), salted with its address."""
    return {address: secret_hash(value, address) for address, value in values.items()}


def _hash_matches(stored: str, value: str, *, salt: str) -> bool:
    _, iterations, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def save_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    *,
    secret_hashes: Mapping[str, str],
    sources: Sequence[str],
    created_at: datetime | None = None,
) -> None:
    """Write atomically, readable by the owner only (it names endpoints and keys)."""
    document = {
        "kind": _KIND,
        "format_version": PLAN_FILE_VERSION,
        "exportctl_version": _exportctl_version(),
        "created_at": _timestamp(created_at or datetime.now(UTC)),
        "manifest_sources": list(sources),
        "secret_hashes": dict(secret_hashes),
        "plan": plan_to_json(plan),
    }
    _write_atomically(Path(path), json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _exportctl_version() -> str:
    try:
        return metadata.version("exportctl")
    except metadata.PackageNotFoundError:  # running from a bare checkout
        return "unknown"


def _write_atomically(path: Path, text: str) -> None:
    """Temp file in the same directory, then ``os.replace``: readers never see half a plan."""
    try:
        # mkstemp creates the file with mode 0600.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise PlanFileError(f"Cannot write saved plan {path}: {error.strerror}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)  # os.replace: atomic on POSIX and Windows
    except OSError as error:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise PlanFileError(f"Cannot write saved plan {path}: {error.strerror}.") from None


def load_plan(path: str | os.PathLike[str]) -> SavedPlan:
    """Read and check a saved plan; every problem is a ``PlanFileError`` saying what to do."""
    document = _read_document(Path(path))
    plan_json = document["plan"]
    plan = plan_from_checked_json(plan_json)
    return SavedPlan(
        plan_json=plan_json,
        plan=plan,
        fingerprints={dv.ref: dv.live_fingerprint for dv in plan.dataviews},
        secret_hashes=dict(document["secret_hashes"]),
        sources=tuple(document["manifest_sources"]),
        manifest_digest=plan.manifest_digest,
        created_at=document["created_at"],
        exportctl_version=document["exportctl_version"],
    )


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError(
            f"Saved plan {path} not found. Check the path, or create it with "
            f"`exportctl plan --out {path}`."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise PlanFileError(f"Cannot read saved plan {path}: {reason}.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(
            f"Saved plan {path} is not JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}). Pass the file written by `exportctl plan --out`."
        ) from None
    return _checked(document, path)


def _checked(document: Any, path: Path) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("kind") != _KIND:
        raise PlanFileError(
            f"{path} is not an exportctl plan file. Pass the file written by "
            "`exportctl plan --out` (not the output of `plan --format json`)."
        )
    writer = document.get("exportctl_version", "an unknown version")
    what = f"Saved plan {path} (written by exportctl {writer})"
    check_format_version(document.get("format_version"), supported=PLAN_FILE_VERSION, what=what)
    validate_plan_json(document.get("plan"), what=f"The plan in {path}")
    problem = first_problem(_fast_envelope_check(), _validator(), document)
    if problem is not None:
        raise PlanFileError(
            f"Saved plan {path} is damaged: {problem}. Re-create it with `exportctl plan --out`."
        )
    return document


@cache
def _fast_envelope_check() -> Check:
    """The file schema's fast check, everything but ``plan``.

    ``validate_plan_json`` has just checked the plan; the reference to the plan
    schema (another document) would otherwise make the fast check answer "no"
    and send every file through jsonschema.
    """
    schema = copy.deepcopy(load_schema("plan-file.schema.json"))
    schema["properties"]["plan"] = {}
    return compile_schema(schema)


@cache
def _validator() -> Any:
    """The file schema refers to the plan schema by its ``$id``; the registry resolves it."""
    plan_schema = load_schema("plan.schema.json")
    registry: Registry[Any] = Registry().with_resource(
        plan_schema["$id"], Resource.from_contents(plan_schema)
    )
    return jsonschema.Draft202012Validator(load_schema("plan-file.schema.json"), registry=registry)
