import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PlanFileError
from reconciler.plan import SENSITIVE
from reconciler.planfile import (
    load_plan,
    save_plan,
    secret_address,
    secret_hash,
    secret_hashes_for,
)
from reconciler.render.json_form import plan_to_json
from tests.render.plans import DV1, DV2, DV3, SECRET, every_action_plan
from tests.render.schemas import errors

ADDRESS = "1/1/123/456/weekly/target_properties.password"


def _save(path: Path) -> None:
    save_plan(
        path,
        every_action_plan(),
        secret_hashes=secret_hashes_for({ADDRESS: SECRET}),
        sources=["exports.yaml", "more/b.yaml"],
        created_at=datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
    )


def test_round_trip_gives_back_the_plan_fingerprints_and_sources(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    saved = load_plan(path)
    plan = every_action_plan()
    assert saved.plan.dataviews[1:] == plan.dataviews[1:]
    password = saved.plan.dataviews[0].changes[1].fields[2]
    assert (password.old, password.new, password.sensitive) == (SENSITIVE, SENSITIVE, True)
    assert saved.plan_json == plan_to_json(every_action_plan())
    assert saved.fingerprints == {DV1: "fp-1", DV2: "fp-2", DV3: "fp-3"}
    assert saved.sources == ("exports.yaml", "more/b.yaml")
    assert saved.manifest_digest == "sha256:abc"
    assert saved.created_at == "2024-05-01T12:30:05Z"
    assert saved.exportctl_version == "0.1.0"
    assert list(saved.secret_hashes) == [ADDRESS]


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


def test_the_file_holds_a_hash_of_the_secret_never_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    _save(path)
    text = path.read_text()
    assert SECRET not in text
    saved = load_plan(path)
    assert saved.secret_matches(ADDRESS, SECRET) is True
    assert saved.secret_matches(ADDRESS, SECRET + "-rotated") is False
    assert saved.secret_matches("1/1/1/1/other/target_properties.password", SECRET) is False


def test_secret_hashes_are_salted_by_address() -> None:
    assert secret_address(DV1, "weekly", "target_properties.password") == ADDRESS
    assert secret_hash(SECRET, "a") != secret_hash(SECRET, "b")
    assert secret_hash(SECRET, "a") == secret_hash(SECRET, "a")
    assert secret_hash(SECRET, "a").startswith("pbkdf2-sha256$100000$")


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
            _edited(format_version="2.0", exportctl_version="9.0.0"),
            "Saved plan {path} (written by exportctl 9.0.0) uses format_version 2.0, which "
            "this exportctl cannot read (it reads 1.0). Use the exportctl version that wrote "
            "it, or re-create it with `exportctl plan --out`.",
        ),
        (
            _edited(plan_version="3.1"),
            "The plan in {path} uses format_version 3.1, which this exportctl cannot read (it "
            "reads 1.0). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _edited(secret_hashes={ADDRESS: SECRET}),
            "Saved plan {path} is damaged: at secret_hashes/"
            + ADDRESS
            + ": '"
            + SECRET
            + "' does not match '^pbkdf2-sha256\\\\$[0-9]+\\\\$[0-9a-f]{{64}}$'. Re-create it "
            "with `exportctl plan --out`.",
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


def test_load_plan_of_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan(tmp_path)
    assert caught.value.message == f"Cannot read saved plan {tmp_path}: Is a directory."


def test_save_plan_into_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "plan.json"
    with pytest.raises(PlanFileError) as caught:
        save_plan(path, every_action_plan(), secret_hashes={}, sources=[])
    assert caught.value.message == f"Cannot write saved plan {path}: No such file or directory."
