import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.saved import check_endpoints
from reconciler.errors import PlanFileError
from reconciler.plan import SENSITIVE
from reconciler.plan_json import plan_to_json
from reconciler.planfile import (
    MAX_PLAN_FILE_BYTES,
    load_plan,
    save_plan,
    secret_address,
    secrets_hash,
)
from tests.render.plans import DV1, DV2, DV3, SECRET, every_action_plan
from tests.render.schemas import errors

ADDRESS = "mammoth:1/1/123/456/weekly/target_properties.password"
OTHER = "mammoth:1/1/123/456/monthly/target_properties.password"
SECRETS = {ADDRESS: SECRET, OTHER: "other-Secret-5a6b"}


def _save(path: Path, secrets: dict[str, str] = SECRETS) -> None:
    save_plan(
        path,
        every_action_plan(),
        secrets=secrets,
        sources=["exports.yaml", "more/b.yaml"],
        created_at=datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
    )


def test_round_trip_gives_back_the_plan_fingerprints_and_sources(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    saved = load_plan(path)
    plan = every_action_plan()
    assert saved.plan.scopes[1:] == plan.scopes[1:]
    password = saved.plan.scopes[0].changes[1].fields[2]
    assert (password.old, password.new, password.sensitive) == (SENSITIVE, SENSITIVE, True)
    assert saved.plan_json == plan_to_json(every_action_plan())
    assert saved.fingerprints == {DV1: "fp-1", DV2: "fp-2", DV3: "fp-3"}
    assert saved.sources == ("exports.yaml", "more/b.yaml")
    assert saved.manifest_digest == "sha256:abc"
    assert saved.created_at == "2024-05-01T12:30:05Z"
    assert saved.exportctl_version == "0.1.0"
    assert saved.secret_addresses == (OTHER, ADDRESS)  # sorted


def test_the_file_is_valid_against_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    assert errors("plan-file.schema.json", json.loads(path.read_text())) == []


def test_the_file_is_for_the_owner_only_and_no_temp_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old")
    path.chmod(0o644)
    _save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_the_file_holds_one_hash_of_the_secrets_never_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    text = path.read_text()
    assert all(value not in text for value in SECRETS.values())
    assert text.count("pbkdf2-sha256$100000$") == 1
    saved = load_plan(path)
    assert saved.secrets_match(SECRETS) is True
    assert saved.secrets_match({**SECRETS, "1/1/1/1/new/password": "x"}) is True  # not relied on
    assert saved.secrets_match({**SECRETS, ADDRESS: SECRET + "-rotated"}) is False
    assert saved.secrets_match({**SECRETS, OTHER: SECRET}) is False  # values swapped round
    assert saved.secrets_match({ADDRESS: SECRET}) is False


def test_a_plan_without_secrets_stores_no_hash(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path, {})
    document = json.loads(path.read_text())
    assert (document["secret_addresses"], document["secrets_hash"]) == ([], None)
    assert load_plan(path).secrets_match({}) is True


def test_the_hash_covers_every_value_and_address_with_the_salt_given() -> None:
    salt = bytes(range(16))
    hashed = secrets_hash(SECRETS, salt)
    assert hashed == secrets_hash(dict(reversed(SECRETS.items())), salt)  # order-free
    assert hashed.startswith("pbkdf2-sha256$100000$000102030405060708090a0b0c0d0e0f$")
    others = [
        secrets_hash(SECRETS, bytes(16)),
        secrets_hash({**SECRETS, OTHER: "x"}, salt),
        secrets_hash({ADDRESS: SECRET, "1/1/1/1/k/p": SECRETS[OTHER]}, salt),
        secrets_hash({ADDRESS: SECRET}, salt),
        secrets_hash({ADDRESS: "caf\udce9"}, salt),  # undecodable environment bytes
    ]
    assert hashed not in others


def test_two_plan_files_with_the_same_secrets_do_not_show_it(tmp_path: Path) -> None:
    _save(tmp_path / "a.json")
    _save(tmp_path / "b.json")
    first, second = (load_plan(tmp_path / name).secrets_hash for name in ("a.json", "b.json"))
    assert first != second  # a random salt per file


def test_secret_address() -> None:
    assert secret_address(DV1, "weekly", "target_properties.password") == ADDRESS


def _document(tmp_path: Path) -> dict[str, Any]:
    _save(tmp_path / "good.json")
    document: dict[str, Any] = json.loads((tmp_path / "good.json").read_text())
    return document


def _write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _edited(**changes: Any) -> Any:
    def edit(document: dict[str, Any]) -> dict[str, Any]:
        for key, value in changes.items():
            if key == "plan_version":
                document["plan"]["format_version"] = value
            else:
                document[key] = value
        return document

    return edit


def _old_format(document: dict[str, Any]) -> dict[str, Any]:
    """A file as format 1.0 wrote it: one address-salted hash per secret."""
    del document["secret_addresses"], document["secrets_hash"]
    old_hash = "pbkdf2-sha256$100000$" + "0" * 64
    return {**document, "format_version": "1.0", "secret_hashes": {ADDRESS: old_hash}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "Saved plan {path} is not JSON (line 1, column 2: Expecting property name enclosed "
            "in double quotes). Pass the file written by `exportctl plan --out`.",
        ),
        (
            "[]",
            "{path} is not an exportctl plan file. Pass the file written by `exportctl plan "
            "--out` (not the output of `plan --format json`).",
        ),
        (
            json.dumps(plan_to_json(every_action_plan())),
            "{path} is not an exportctl plan file. Pass the file written by `exportctl plan "
            "--out` (not the output of `plan --format json`).",
        ),
        (
            _edited(format_version="4.0", exportctl_version="9.0.0"),
            "Saved plan {path} (written by exportctl 9.0.0) uses format_version 4.0, which "
            "this exportctl cannot read (it reads 3.0 to 3.2). Use the exportctl version that "
            "wrote it, or re-create it with `exportctl plan --out`.",
        ),
        (
            _edited(format_version="3.3", exportctl_version="9.0.0"),
            "Saved plan {path} (written by exportctl 9.0.0) uses format_version 3.3, which "
            "this exportctl cannot read (it reads 3.0 to 3.2). Use the exportctl version that "
            "wrote it, or re-create it with `exportctl plan --out`.",
        ),
        (
            _old_format,
            "Saved plan {path} (written by exportctl 0.1.0) uses format_version 1.0, written "
            "by an older exportctl; this one reads 3.2. Run plan again to make a new one "
            "(`exportctl plan --out FILE`).",
        ),
        (
            _edited(format_version="2.0", exportctl_version="0.2.0"),
            "Saved plan {path} (written by exportctl 0.2.0) uses format_version 2.0, written "
            "by an older exportctl; this one reads 3.2. Run plan again to make a new one "
            "(`exportctl plan --out FILE`).",
        ),
        (
            _edited(plan_version="3.1"),
            "The plan in {path} uses format_version 3.1, which this exportctl cannot read (it "
            "reads 2.0 to 2.1). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _edited(secrets_hash=SECRET),
            "Saved plan {path} is damaged: at secrets_hash: '" + SECRET + "' does not match "
            "'^pbkdf2-sha256\\\\$[1-9][0-9]*\\\\$[0-9a-f]{{32}}\\\\$[0-9a-f]{{64}}$'. Re-create "
            "it with `exportctl plan --out`.",
        ),
        (
            _edited(secrets_hash=None),
            "Saved plan {path} is damaged: at secrets_hash: None is not of type 'string'. "
            "Re-create it with `exportctl plan --out`.",
        ),
    ],
)
def test_load_plan_errors(tmp_path: Path, content: Any, message: str) -> None:
    path = _write(tmp_path, content(_document(tmp_path)) if callable(content) else content)
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.message == message.format(path=path)


def test_load_plan_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.message == (
        f"Saved plan {path} not found. Check the path, or create it with "
        f"`exportctl plan --out {path}`."
    )


def test_load_plan_of_a_directory_names_it_with_the_callers_hint(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan(tmp_path, manifest_hint="exportctl apply -f manifests/")
    assert caught.value.message == (
        f"{tmp_path} is a directory, not a saved plan (a file written by `exportctl plan "
        "--out`). Pass manifests with -f: 'exportctl apply -f manifests/'."
    )


def test_a_manifest_is_named_as_one_and_a_plan_named_like_a_manifest_still_loads(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "exports.yaml"
    manifest.write_text("version: 1\ndataviews: []\n")
    with pytest.raises(PlanFileError) as caught:
        load_plan(manifest)
    assert caught.value.message == (
        f"{manifest} is a manifest (YAML), not a saved plan (a file written by `exportctl "
        "plan --out`)."
    )
    plan = tmp_path / "plan.yaml"  # --out takes any name; the file is JSON all the same
    _save(plan)
    assert load_plan(plan, manifest_hint="unused").sources == ("exports.yaml", "more/b.yaml")


def test_save_plan_into_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "plan.json"
    with pytest.raises(PlanFileError) as caught:
        save_plan(path, every_action_plan(), secrets={}, sources=[])
    assert caught.value.message == f"Cannot write saved plan {path}: No such file or directory."


def test_a_stored_iteration_count_beyond_what_exportctl_writes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    document = json.loads(path.read_text())
    algorithm, _, salt, digest = document["secrets_hash"].split("$")
    for forged in ("999999999999", "2000000000", "1"):
        document["secrets_hash"] = f"{algorithm}${forged}${salt}${digest}"
        path.write_text(json.dumps(document))
        with pytest.raises(PlanFileError) as caught:
            load_plan(path)
        assert caught.value.message == (
            f"Saved plan {path} is damaged: secrets_hash asks for {forged} iterations "
            "(exportctl writes 100000). Re-create it with `exportctl plan --out`."
        )


def test_a_plan_file_nested_too_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert "is nested far deeper than any plan" in caught.value.message


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_only_a_regular_file_is_read_as_a_plan(tmp_path: Path, special: str) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "plan.fifo"
        os.mkfifo(path)  # nobody writes: opening it for reading must not wait
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.message == (
        f"Saved plan {path} is not a regular file. Pass the file written by `exportctl plan --out`."
    )


def test_a_plan_file_larger_than_any_plan_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_PLAN_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert "a plan file may be" in caught.value.message


def test_a_file_from_before_endpoints_were_recorded_is_not_refused_for_them(
    tmp_path: Path,
) -> None:
    older = _document(tmp_path)
    del older["endpoints"]
    older["format_version"] = "3.1"
    saved = load_plan(_write(tmp_path, older))
    assert saved.endpoints is None
    check_endpoints(saved, {"mammoth": "https://elsewhere.example/api/v2"}, "plan.json")
    recorded = load_plan(_write(tmp_path, {**older, "endpoints": {"mammoth": "https://a/api/v2"}}))
    with pytest.raises(PlanFileError, match="made against the mammoth API at https://a/api/v2"):
        check_endpoints(recorded, {"mammoth": "https://b/api/v2"}, "plan.json")
    check_endpoints(recorded, {"mammoth": "https://a/api/v2", "domo": "https://d"}, "plan.json")
