"""A saved plan is refused when a secret it relied on changed; checking costs one derivation.

The plan file keeps one slow hash over all secrets, so apply names a secret
that is gone but cannot name a changed one: it lists every secret the plan
relied on (``reconciler.planfile`` explains why that is the safe choice).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.apply.saved import check_secrets
from reconciler.cli.main import cli
from reconciler.errors import PlanFileError
from reconciler.plan import Plan
from reconciler.planfile import SavedPlan, load_plan, save_plan

AGAIN = "Run 'exportctl plan --out FILE' again, review it, and apply the new plan."
A = "mammoth:1/1/123/456/a/target_properties.password"
B = "mammoth:1/1/123/456/b/target_properties.password"
SECRETS = {A: "a-Secret-1", B: "b-Secret-2"}


def _saved(tmp_path: Path, secrets: dict[str, str]) -> tuple[SavedPlan, str]:
    path = tmp_path / "plan.json"
    save_plan(path, Plan((), manifest_digest="sha256:0"), secrets=secrets, sources=[])
    return load_plan(path), str(path)


def _refusal(saved: SavedPlan, now: dict[str, str], path: str) -> str:
    with pytest.raises(PlanFileError) as caught:
        check_secrets(saved, now, path)
    message: str = caught.value.message
    assert all(value not in message for value in (*SECRETS.values(), *now.values()))
    return message


def test_the_same_secrets_pass(tmp_path: Path) -> None:
    saved, path = _saved(tmp_path, SECRETS)
    check_secrets(saved, SECRETS, path)


def test_a_plan_without_secrets_passes_when_the_manifest_has_none(tmp_path: Path) -> None:
    saved, path = _saved(tmp_path, {})
    check_secrets(saved, {}, path)


@pytest.mark.parametrize("listed", [{}, {A: SECRETS[A]}], ids=["none-listed", "one-listed"])
def test_a_plan_file_that_leaves_out_a_secret_the_manifest_gives_is_refused(
    tmp_path: Path, listed: dict[str, str]
) -> None:
    """plan --out lists them all: a file that skips one was edited to dodge the check."""
    saved, path = _saved(tmp_path, listed)
    unlisted = "\n".join(f"  {a}" for a in sorted(set(SECRETS) - set(listed)))
    assert _refusal(saved, {A: "a-Rotated-1", B: "b-Rotated-2"}, path) == (
        f"Saved plan {path} does not list secrets that its changes carry:\n{unlisted}\n"
        f"The file was edited or damaged. {AGAIN}"
    )


@pytest.mark.parametrize(
    "now",
    [{**SECRETS, A: "a-Rotated-1"}, {A: SECRETS[B], B: SECRETS[A]}],
    ids=["rotated", "swapped"],
)
def test_a_changed_secret_is_refused_listing_every_secret_relied_on(
    tmp_path: Path, now: dict[str, str]
) -> None:
    saved, path = _saved(tmp_path, SECRETS)
    assert _refusal(saved, now, path) == (
        f"Saved plan {path} was made with other secret values than the environment "
        "resolves now: an environment variable changed since the plan was made. The plan "
        "file keeps one hash over all its secrets, so it cannot tell which one; it relied "
        f"on these:\n  {A}\n  {B}\n{AGAIN}"
    )


def test_a_secret_gone_from_the_manifest_is_named(tmp_path: Path) -> None:
    saved, path = _saved(tmp_path, SECRETS)
    assert _refusal(saved, {A: SECRETS[A]}, path) == (
        f"Saved plan {path} relied on secrets the manifest no longer resolves:\n  {B}\n{AGAIN}"
    )


def test_saving_and_checking_derive_once_whatever_the_number_of_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = {f"mammoth:1/1/123/456/e{i}/target_properties.password": f"s-{i}" for i in range(50)}
    derive = hashlib.pbkdf2_hmac
    calls: list[int] = []

    def counted(*args: Any) -> bytes:
        calls.append(1)
        return derive(*args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    saved, path = _saved(tmp_path, many)
    check_secrets(saved, many, path)
    assert len(calls) == 2  # one to save, one to check


MANIFEST = """\
version: 1
dataviews:
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 456
    exports:
      - key: warehouse
        handler_type: postgres
        trigger_type: none
        run_immediately: false
        target_properties:
          host: pg.example.com
          database: dw
          table: sales
          username: writer
          password: ${env:EXPORTCTL_TEST_SAVED_PW}
"""


def test_apply_refuses_a_saved_plan_after_the_secret_rotated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("exports.yaml").write_text(MANIFEST, encoding="utf-8")
    runner = CliRunner()
    env = {"EXPORTCTL_TEST_SAVED_PW": "pw-Before-7"}
    made = runner.invoke(cli, ["plan", "-f", "exports.yaml", "--sandbox", "--out", "p"], env=env)
    assert made.exit_code == 0, made.stderr
    after = {"EXPORTCTL_TEST_SAVED_PW": "pw-After-8"}
    rotated = runner.invoke(cli, ["apply", "p", "--sandbox"], env=after)
    assert (rotated.exit_code, rotated.stderr) == (
        1,
        "Error: Saved plan p was made with other secret values than the environment "
        "resolves now: an environment variable changed since the plan was made. The plan "
        "file keeps one hash over all its secrets, so it cannot tell which one; it relied "
        "on these:\n  mammoth:1/1/123/456/warehouse/target_properties.password\n"
        f"{AGAIN}\n",
    )
    applied = runner.invoke(cli, ["apply", "p", "--sandbox"], env=env)
    assert applied.exit_code == 0, applied.stderr
