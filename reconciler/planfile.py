"""Saved plans: what ``plan --out FILE`` writes and ``apply FILE`` reads back.

A saved plan is the plan's JSON form wrapped with what apply needs to check it
still fits (``schemas/plan-file.schema.json``): the manifest files it came
from, the live fingerprint per dataview (inside the plan), the addresses of
the secrets it relied on, and ONE salted, slow hash over all their values, so
apply can tell a rotated secret without the file ever holding one. Secret
hashing lives here and nowhere else.

Why one hash over all secrets, not one per secret (format 1.x did that):
each slow hash costs ~60 ms, so a manifest with hundreds of secrets made
``plan --out`` and ``apply FILE`` take many seconds. Now each costs one
derivation, whatever the number of secrets. It is as safe as before against
someone guessing secrets from a stolen plan file:

- Each guess still costs one full PBKDF2-SHA256 derivation at the same
  iteration count, because every secret value is in that derivation's input.
  An attacker who already knows all secrets but one tests a guess for that one
  at exactly the old price; one who knows fewer must guess several at once,
  which only costs more.
- Nothing cheaper is stored. Per-secret fast tags keyed with a key from the
  slow hash would not help: after a rotation that key no longer comes out of
  the current values, so apply could not check the tags; and tags keyed with
  anything the file holds would let each guess be checked without the slow
  derivation. Naming the changed secret and keeping the price of a guess
  exclude each other, so safety wins: apply says a secret changed and lists
  every secret address the plan covers (a missing one it can still name).
- The salt is random per file (format 1.x salted with the address alone):
  no precomputed table, and two plan files with the same secrets do not show
  that they are equal.
- The encoding is JSON of the sorted (address, value) pairs, which is
  injective: no two different sets of secrets hash the same input.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from reconciler._resources import load_schema
from reconciler.errors import PlanFileError
from reconciler.fastcheck import Check, compile_schema, first_problem
from reconciler.model import Scope
from reconciler.plan import Plan
from reconciler.plan_json import (
    PlanJson,
    check_format_version,
    plan_from_checked_json,
    plan_to_json,
    validate_plan_json,
)

__all__ = [
    "MAX_PLAN_FILE_BYTES",
    "PLAN_FILE_VERSION",
    "SavedPlan",
    "load_plan",
    "locate_sources",
    "save_plan",
    "secret_address",
    "secrets_hash",
]

# 2.0: one hash over all secrets (secret_addresses, secrets_hash) replaced the
# per-secret secret_hashes of 1.x. 3.0: the plan inside is format 2 (scopes
# of any provider). 3.1: manifest_sources_from_plan, the same files relative to
# the plan file's directory. 3.2: endpoints, each provider's API the plan was
# made against. Older files are refused with "run plan again".
PLAN_FILE_VERSION = "3.2"
_KIND = "exportctl-plan-file"
# PBKDF2 at this cost takes ~60 ms on a 2-core CI machine, once per plan file:
# each guess at a secret from a leaked plan file costs as much.
_ITERATIONS = 100_000
# A later exportctl may raise the cost; a file asking for more than this is forged.
_MAX_ITERATIONS = 10 * _ITERATIONS
_ALGORITHM = "pbkdf2-sha256"
_SALT_BYTES = 16
# Far beyond any real plan (a 10,000-export plan is a few MB), small enough to read.
MAX_PLAN_FILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file, with what apply checks before trusting it."""

    plan_json: PlanJson
    plan: Plan
    fingerprints: Mapping[Scope, str]
    secret_addresses: tuple[str, ...]
    secrets_hash: str | None
    sources: tuple[str, ...]
    manifest_digest: str
    created_at: str
    exportctl_version: str
    sources_from_plan: tuple[str, ...] | None = None  # None in files before 3.1
    endpoints: Mapping[str, str] | None = None  # by provider; None in files before 3.2

    def secrets_match(self, values: Mapping[str, str]) -> bool:
        """Whether ``values`` hold every secret the plan was made with, unchanged.

        One slow derivation, whatever the number of secrets; values at other
        addresses are ignored (the plan did not rely on them).
        """
        if self.secrets_hash is None:
            return True
        if any(address not in values for address in self.secret_addresses):
            return False
        relied_on = {address: values[address] for address in self.secret_addresses}
        _, iterations, salt, expected = self.secrets_hash.split("$")
        digest = _derive(relied_on, bytes.fromhex(salt), int(iterations))
        return hmac.compare_digest(digest.hex(), expected)


def secret_address(scope: Scope, key: str, path: str) -> str:
    """``PROVIDER:ADDRESS/KEY/PATH``: where a secret sits, as ``secret_addresses`` lists it.

    Dotted paths hold no ``/``, so the last segment is always the path.
    """
    return f"{scope.provider}:{scope.address}/{key}/{path}"


def secrets_hash(values: Mapping[str, str], salt: bytes) -> str:
    """``pbkdf2-sha256$ITERATIONS$SALT$HEX`` over all ``values`` (address -> value).

    Self-describing, so the cost can rise later without a new format.
    """
    digest = _derive(values, salt, _ITERATIONS)
    return f"{_ALGORITHM}${_ITERATIONS}${salt.hex()}${digest.hex()}"


def _derive(values: Mapping[str, str], salt: bytes, iterations: int) -> bytes:
    # ASCII-escaped JSON: injective, and a value with lone surrogates (an
    # undecodable environment variable) still encodes.
    encoded = json.dumps(sorted(values.items()), separators=(",", ":"))
    return hashlib.pbkdf2_hmac("sha256", encoded.encode(), salt, iterations)


def save_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    *,
    secrets: Mapping[str, str],
    sources: Sequence[str],
    endpoints: Mapping[str, str] | None = None,
    created_at: datetime | None = None,
) -> None:
    """Write atomically, readable by the owner only (it names endpoints and keys).

    ``secrets`` (address -> value, from ``secret_address``) are the values the
    plan relied on; the file keeps their addresses and one hash, never a value.
    ``endpoints`` (provider -> its API, as shown) say where the plan was made.
    """
    hashed = secrets_hash(secrets, os.urandom(_SALT_BYTES)) if secrets else None
    document = {
        "kind": _KIND,
        "format_version": PLAN_FILE_VERSION,
        "exportctl_version": _exportctl_version(),
        "created_at": _timestamp(created_at or datetime.now(UTC)),
        "manifest_sources": list(sources),
        "manifest_sources_from_plan": [
            _relative_to(source, Path(path).parent) for source in sources
        ],
        "endpoints": dict(sorted((endpoints or {}).items())),
        "secret_addresses": sorted(secrets),
        "secrets_hash": hashed,
        "plan": plan_to_json(plan),
    }
    _write_atomically(Path(path), json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _exportctl_version() -> str:
    from importlib import metadata  # ~30 ms; only a plan being saved needs it

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


def load_plan(path: str | os.PathLike[str], *, manifest_hint: str | None = None) -> SavedPlan:
    """Read and check a saved plan; every problem is a ``PlanFileError`` saying what to do.

    A manifest (or a directory of them) passed where the plan goes is the
    likeliest mistake (``apply exports.yaml``, forgetting ``-f``): it is named as
    such, and ``manifest_hint``, the caller's command that reads it with ``-f``,
    is suggested rather than a JSON parser's complaint.
    """
    document = _read_document(Path(path), manifest_hint)
    plan_json = document["plan"]
    plan = plan_from_checked_json(plan_json)
    return SavedPlan(
        plan_json=plan_json,
        plan=plan,
        fingerprints={sp.scope: sp.live_fingerprint for sp in plan.scopes},
        secret_addresses=tuple(document["secret_addresses"]),
        secrets_hash=document["secrets_hash"],
        sources=tuple(document["manifest_sources"]),
        manifest_digest=plan.manifest_digest,
        created_at=document["created_at"],
        exportctl_version=document["exportctl_version"],
        sources_from_plan=_optional_tuple(document.get("manifest_sources_from_plan")),
        endpoints=document.get("endpoints"),
    )


def _optional_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _relative_to(source: str, directory: Path) -> str:
    """``source`` (relative to the working directory) as seen from ``directory``, POSIX-style."""
    return Path(os.path.relpath(Path(source).absolute(), directory.absolute())).as_posix()


def locate_sources(saved: SavedPlan, planfile: str | os.PathLike[str]) -> list[str]:
    """The manifest files to re-read for ``saved``: beside the plan first, else as given.

    A plan made with ``-f exports/ --out build/x.plan`` records ``../exports``
    from the plan too, so it applies from another directory (a CI job that
    downloads it elsewhere) as long as the two keep their places; the manifest
    digest then proves the files are the ones planned. ``PlanFileError`` names
    every file found in neither place, and where it looked.
    """
    beside = Path(planfile).parent
    from_plan = saved.sources_from_plan or ()
    places = [
        [*([str(beside / from_plan[i])] if from_plan else []), given]
        for i, given in enumerate(saved.sources)
    ]
    for choice in range(len(places[0]) if places else 1):
        paths = [options[choice] for options in places]
        if all(Path(p).exists() for p in paths):
            return paths
    missing = [
        f"{saved.sources[i]} (looked for {' and '.join(str(Path(p).resolve()) for p in options)})"
        for i, options in enumerate(places)
        if not any(Path(p).exists() for p in options)
    ]
    listed = "; ".join(missing) or "some only beside the plan, the others only from here"
    raise PlanFileError(
        f"Saved plan {planfile} was made from manifest files that are not here: "
        f"{listed}. Apply it from the checkout it was planned in (the paths "
        "are kept relative to the plan file and to the directory plan ran in), or plan again."
    )


def _read_document(path: Path, manifest_hint: str | None) -> dict[str, Any]:
    if path.is_dir():
        raise _not_a_plan(path, "a directory", manifest_hint)
    try:
        text = _read_bounded(path).decode("utf-8")
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
        if _is_manifest(path, text):
            raise _not_a_plan(path, "a manifest (YAML)", manifest_hint) from None
        raise PlanFileError(
            f"Saved plan {path} is not JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}). Pass the file written by `exportctl plan --out`."
        ) from None
    except RecursionError:
        raise PlanFileError(
            f"Saved plan {path} is nested far deeper than any plan: it is not a file "
            "`exportctl plan --out` wrote. Re-create it."
        ) from None
    return _checked(document, path)


# The top-level key every manifest has, at the start of a line as YAML writes it.
_MANIFEST_VERSION = re.compile(r"^version[ \t]*:", re.MULTILINE)


def _is_manifest(path: Path, text: str) -> bool:
    """Whether a file that is not JSON is a manifest: named like one, or with a
    manifest's top-level ``version``. Every plan file is JSON, so this is asked
    only once JSON failed (a plan saved as ``plan.yaml`` still loads); a search,
    not a YAML parse, so a 200 MB file of something else costs no more than its read."""
    return path.suffix.lower() in (".yaml", ".yml") or bool(_MANIFEST_VERSION.search(text))


def _not_a_plan(path: Path, what: str, manifest_hint: str | None) -> PlanFileError:
    advice = f" Pass manifests with -f: '{manifest_hint}'." if manifest_hint else ""
    return PlanFileError(
        f"{path} is {what}, not a saved plan (a file written by `exportctl plan --out`).{advice}"
    )


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, if it is a regular file no larger than ``MAX_PLAN_FILE_BYTES``.

    A plan file is data from wherever CI stored it: ``/dev/zero`` or a FIFO
    must not make apply read forever or wait for a writer. Opened without
    blocking, then checked by what was opened (no race with a swapped path).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PlanFileError(
                f"Saved plan {path} is not a regular file. Pass the file written by "
                "`exportctl plan --out`."
            )
        if info.st_size > MAX_PLAN_FILE_BYTES:
            raise PlanFileError(
                f"Saved plan {path} is {info.st_size // 2**20} MiB, more than the "
                f"{MAX_PLAN_FILE_BYTES // 2**20} MiB a plan file may be. Pass the file "
                "written by `exportctl plan --out`."
            )
        return handle.read(MAX_PLAN_FILE_BYTES + 1)


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
    problem = first_problem(_fast_envelope_check(), _validator, document)
    if problem is None:
        problem = _hash_problem(document["secrets_hash"])
    if problem is not None:
        raise PlanFileError(
            f"Saved plan {path} is damaged: {problem}. Re-create it with `exportctl plan --out`."
        )
    return document


def _hash_problem(hashed: str | None) -> str | None:
    """What is wrong with a stored secrets hash's cost, read as data, not as instructions.

    The schema checks its shape; its iteration count decides how long apply
    works on it. Only the counts exportctl writes are accepted, so a forged
    file can neither make apply spin for minutes nor check secrets cheaply.
    """
    if hashed is None:
        return None
    iterations = int(hashed.split("$")[1])
    if _ITERATIONS <= iterations <= _MAX_ITERATIONS:
        return None
    return f"secrets_hash asks for {iterations} iterations (exportctl writes {_ITERATIONS})"


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
    """The file schema refers to the plan schema by its ``$id``; the registry resolves it.

    Built only for an invalid file: importing jsonschema costs start-up time.
    """
    import jsonschema  # type: ignore[import-untyped]  # Limitation: no stubs in the venv
    from referencing import Registry, Resource

    plan_schema = load_schema("plan.schema.json")
    registry: Registry[Any] = Registry().with_resource(
        plan_schema["$id"], Resource.from_contents(plan_schema)
    )
    return jsonschema.Draft202012Validator(load_schema("plan-file.schema.json"), registry=registry)
