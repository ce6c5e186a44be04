"""Domo end to end through the real CLI: validate, plan, apply, drift.

Against the sandbox's Domo part served on a real loopback socket (one server
for the module, each test on its own DataSet, faults put back after each), and
against the embedded ``--sandbox DB``. The developer token and the AWS
credentials are set in the environment only, and looked for in every output.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.providers.domo.entries import S3ExportEntry
from reconciler.providers.domo.provider import FACTORY
from reconciler.providers.domo.sandbox.s3 import s3_folder
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import FAULT_KNOBS, SandboxConfig
from reconciler.sandbox.files import provider_file
from reconciler.sandbox.server import serve_app_in_thread
from tests.cli.support import all_output, invoke
from tests.providers.domo.support import ACCESS_KEY, SECRET_KEY, DomoSandbox, entry, run

TOKEN = "domo-Token-7c1e9a55b2"
DEFAULTS = SandboxConfig(job_delay_ms=50)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DomoSandbox]:
    """The sandbox's Domo part on a socket, accepting ``TOKEN`` (read when it starts)."""
    db = tmp_path_factory.mktemp("domo") / "sandbox.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOMO_DEVELOPER_TOKEN", TOKEN)
        part = FACTORY.sandbox(db, DEFAULTS, SandboxClock(), None)
    try:
        with serve_app_in_thread(part.app, date_header=False) as root:
            yield DomoSandbox(root, TOKEN, db)
    finally:
        part.close()


@pytest.fixture
def domo(server: DomoSandbox) -> Iterator[DomoSandbox]:
    yield server
    server.admin("PUT", "/faults", {name: getattr(DEFAULTS, name) for name in FAULT_KNOBS})


@pytest.fixture
def dataset(domo: DomoSandbox) -> str:
    """A new DataSet of 1,000 rows, only this test's."""
    dataset_id = str(uuid.uuid4())
    domo.dataset(dataset_id)
    return dataset_id


def manifest(tmp_path: Path, dataset_id: str, *, extra: str = "", **fields: str) -> Path:
    values = {"bucket": "acme-exports", "path": "domo/sales", "max_age": "6h", **fields}
    text = f"""\
version: 1
domo:
  s3_exports:
    - key: daily-sales
      dataset_id: {dataset_id}
      bucket: {values["bucket"]}
      path: {values["path"]}
      region: us-east-1
      query:
        columns: [Region, Sales]
      credentials:
        access_key: ${{env:TEST_DOMO_AWS_KEY}}
        secret_key: ${{env:TEST_DOMO_AWS_SECRET}}
      max_age: {values["max_age"]}
{extra}"""
    path = tmp_path / "domo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(domo: DomoSandbox | None, *args: str | Path, token: str = TOKEN) -> Result:
    """``exportctl ARGS`` against the socket (``domo``) or as given (``--sandbox``)."""
    env = {"TEST_DOMO_AWS_KEY": ACCESS_KEY, "TEST_DOMO_AWS_SECRET": SECRET_KEY}
    if domo is not None:
        env |= {"DOMO_BASE_URL": domo.root_url, "DOMO_DEVELOPER_TOKEN": token}
    result = invoke(*args, env=env)
    for secret in (TOKEN, ACCESS_KEY, SECRET_KEY, token):
        assert secret not in all_output(result)
    return result


def exports(domo: DomoSandbox, dataset_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = domo.raw_exports(dataset_id).json()
    return found


def test_validate_counts_datasets_and_exports(tmp_path: Path, dataset: str) -> None:
    result = cli(None, "validate", "-f", manifest(tmp_path, dataset))
    assert result.exit_code == 0, all_output(result)
    assert result.stdout == "Valid: 1 Domo DataSet, 1 export in 1 file.\n"


def test_validate_reports_every_problem_at_its_place(tmp_path: Path, dataset: str) -> None:
    second = f"""\
    - key: daily-sales
      dataset_id: {dataset}
      bucket: acme-exports
      path: domo/sales
      region: us-east-1a
      credentials:
        access_key: ${{env:TEST_DOMO_AWS_KEY}}
        secret_key: {SECRET_KEY}
      max_age: 6h
"""
    path = manifest(tmp_path, dataset, extra=second)
    result = cli(None, "validate", "-f", path)
    assert result.exit_code == 1
    output = all_output(result)
    assert f"{path}:22:21: domo.s3_exports[1].credentials.secret_key:" in output
    assert f"{path}:15:12: domo.s3_exports[1].key: export key 'daily-sales' is already" in output
    assert f"used in domo.s3_exports at {path}:4:12; keys must be unique" in output
    assert f"{path}:18:13: domo.s3_exports[1].path: DataSet {dataset} is already " in output


def test_a_wrong_region_is_named_with_the_nearest_one(tmp_path: Path, dataset: str) -> None:
    path = manifest(tmp_path, dataset)
    path.write_text(path.read_text().replace("us-east-1", "us-east-01"))
    result = cli(None, "validate", "-f", path)
    assert result.exit_code == 1
    assert all_output(result) == (
        f"{path}:8:15: domo.s3_exports[0].region: 'us-east-01' is not an AWS region code "
        "(like 'us-east-1'): did you mean 'us-east-1'?\nInvalid: 1 error.\n"
    )


def test_run_then_fresh_then_stale_then_previous_export(
    tmp_path: Path, domo: DomoSandbox, dataset: str
) -> None:
    path = manifest(tmp_path, dataset)
    planned = cli(domo, "plan", "-f", path)
    assert planned.exit_code == 0, all_output(planned)
    assert f"Domo DataSet {dataset}\n" in planned.stdout
    assert "+ daily-sales (s3_export): no run of this request exists yet. If the DataSet's" in (
        planned.stdout
    )
    assert "Domo answers with that previous export and writes no new file." in planned.stdout
    assert '+ region: "us-east-1"' in planned.stdout

    applied = cli(domo, "apply", "-f", path, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    (export,) = exports(domo, dataset)
    location = f"s3://acme-exports/domo/sales/{export['exportId']}/export/data.csv.gz"
    assert f"ran as run {export['exportId']}, wrote" in applied.stdout
    assert f"wrote {location} (1,000 rows)" in applied.stdout

    again = cli(domo, "plan", "-f", path, "--detailed-exitcode")
    assert again.exit_code == 0, all_output(again)
    assert "No changes." in again.stdout
    assert cli(domo, "drift", "-f", path).exit_code == 0

    domo.advance(7 * 3600)  # the shared clock: every other test's exports age too
    drift = cli(domo, "drift", "-f", path)
    assert drift.exit_code == 2, all_output(drift)
    assert "older than max_age 6h" in drift.stdout

    previous = cli(domo, "apply", "-f", path, "--auto-approve")
    assert previous.exit_code == 0, all_output(previous)
    assert f"Domo answered with its previous export {export['exportId']}" in previous.stdout
    assert f"no new file was written, its files are {location} (1,000 rows)" in previous.stdout
    assert len(exports(domo, dataset)) == 1

    domo.bump(dataset, rows=1234)
    fresh = cli(domo, "apply", "-f", path, "--auto-approve")
    assert fresh.exit_code == 0, all_output(fresh)
    assert "(1,234 rows)" in fresh.stdout
    assert len(exports(domo, dataset)) == 2
    assert "No changes." in cli(domo, "plan", "-f", path).stdout


@pytest.mark.parametrize("include_bom", [False, True])
def test_a_finished_export_is_a_gzip_csv_in_the_local_s3_folder(
    tmp_path: Path, domo: DomoSandbox, include_bom: bool
) -> None:
    dataset_id = str(uuid.uuid4())
    domo.dataset(dataset_id, rows=3, columns=["Region", "Sales", "Returns"])
    path = manifest(tmp_path, dataset_id, path=f"domo/{dataset_id}", max_age="1s")
    flag = f"      include_bom: {str(include_bom).lower()}\n"
    path.write_text(path.read_text().replace("      max_age:", f"{flag}      max_age:"))
    assert cli(domo, "apply", "-f", path, "--auto-approve").exit_code == 0

    (export,) = exports(domo, dataset_id)
    prefix = f"acme-exports/domo/{dataset_id}"  # this test's own: the server is shared
    key = f"{prefix}/{export['exportId']}/export/data.csv.gz"
    assert list(export["urlRowCountMap"]) == [f"s3://{key}"]
    folder = s3_folder(provider_file(domo.db_path, "domo"))
    # Only the query's columns, in its order; the rows follow the DataSet's data version.
    expected = "Region,Sales\nRegion-1-1,Sales-1-1\nRegion-1-2,Sales-1-2\nRegion-1-3,Sales-1-3\n"
    bom = b"\xef\xbb\xbf" if include_bom else b""
    assert gzip.decompress((folder / key).read_bytes()) == bom + expected.encode()

    before = sorted((folder / prefix).rglob("*"))
    domo.advance(2)  # past max_age: a run, which Domo answers with the previous export
    previous = cli(domo, "apply", "-f", path, "--auto-approve")
    assert "Domo answered with its previous export" in previous.stdout, all_output(previous)
    assert sorted((folder / prefix).rglob("*")) == before


def test_plan_as_json_and_markdown(tmp_path: Path, domo: DomoSandbox, dataset: str) -> None:
    path = manifest(tmp_path, dataset)
    as_json = json.loads(cli(domo, "plan", "-f", path, "--format", "json").stdout)
    (scope,) = as_json["scopes"]
    (change,) = scope["changes"]
    assert change["action"] == "run" and change["key"] == "daily-sales"
    markdown = cli(domo, "plan", "-f", path, "--format", "markdown").stdout
    assert "daily-sales" in markdown and "previous export" in markdown


def test_an_export_already_running_is_waited_for(
    tmp_path: Path, domo: DomoSandbox, dataset: str
) -> None:
    domo.admin("PUT", "/faults", {"job_delay_ms": 1500})
    other = manifest(tmp_path, dataset, path="domo/other")
    started = cli(domo, "apply", "-f", other, "--auto-approve", "--job-timeout", "0.2")
    assert started.exit_code == 1  # it gave up waiting; the export still runs
    (running,) = exports(domo, dataset)

    path = manifest(tmp_path, dataset)
    planned = cli(domo, "plan", "-f", path)
    assert f"run {running['exportId']} is exporting (requested" in planned.stdout
    waited = cli(domo, "apply", "-f", path, "--auto-approve")
    assert waited.exit_code == 0, all_output(waited)
    assert f"waited for run {running['exportId']}, wrote s3://acme-exports/domo/other/" in (
        waited.stdout
    )
    assert len(exports(domo, dataset)) == 1  # never a second export beside the running one


def test_a_failed_export_shows_its_code_and_message(
    tmp_path: Path, domo: DomoSandbox, dataset: str
) -> None:
    domo.admin("PUT", "/faults", {"job_failure_rate": 1})
    path = manifest(tmp_path, dataset)
    applied = cli(domo, "apply", "-f", path, "--auto-approve")
    assert applied.exit_code == 1
    assert "SANDBOX_EXPORT_FAILED: sandbox fault: job_failure_rate" in all_output(applied)
    drift = cli(domo, "drift", "-f", path)
    assert drift.exit_code == 2
    assert "failed: SANDBOX_EXPORT_FAILED" in drift.stdout


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_lost_answer_never_starts_a_second_export(
    tmp_path: Path, domo: DomoSandbox, dataset: str, mode: str
) -> None:
    domo.admin("PUT", "/faults", {"commit_then_fail_every": 1, "commit_then_fail_mode": mode})
    path = manifest(tmp_path, dataset)
    applied = cli(domo, "apply", "-f", path, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    assert "the answer was lost; the listing shows it landed" in applied.stdout
    assert len(exports(domo, dataset)) == 1
    assert "No changes." in cli(domo, "plan", "-f", path).stdout


def test_503s_and_429s_are_retried_and_still_start_one_export(
    tmp_path: Path, domo: DomoSandbox, dataset: str
) -> None:
    knobs = {"error_rate": 0.15, "throttle_rate": 0.15, "retry_after_s": 0, "seed": 7}
    domo.admin("PUT", "/faults", knobs)
    path = manifest(tmp_path, dataset)
    applied = cli(domo, "apply", "-f", path, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    domo.admin("PUT", "/faults", {"error_rate": 0, "throttle_rate": 0})
    assert len(exports(domo, dataset)) == 1
    assert "No changes." in cli(domo, "plan", "-f", path).stdout


def test_endpoint_overrides_the_base_url(tmp_path: Path, domo: DomoSandbox, dataset: str) -> None:
    env = {"DOMO_BASE_URL": "https://nowhere.invalid", "DOMO_DEVELOPER_TOKEN": TOKEN}
    path = manifest(tmp_path, dataset)
    env |= {"TEST_DOMO_AWS_KEY": ACCESS_KEY, "TEST_DOMO_AWS_SECRET": SECRET_KEY}
    result = invoke("plan", "-f", path, "--endpoint", domo.root_url, env=env)
    assert result.exit_code == 0, all_output(result)
    assert "+ daily-sales (s3_export)" in result.stdout


def test_a_wrong_token_is_a_401_that_never_shows_the_token(
    tmp_path: Path, domo: DomoSandbox, dataset: str
) -> None:
    result = cli(domo, "plan", "-f", manifest(tmp_path, dataset), token="wrong-Token-0042")
    assert result.exit_code == 1
    assert "rejected the developer token (401)" in result.stderr
    assert "Check DOMO_DEVELOPER_TOKEN" in result.stderr


def test_an_unknown_dataset_is_a_404_naming_the_manifest(tmp_path: Path, domo: DomoSandbox) -> None:
    unknown = str(uuid.uuid4())
    result = cli(domo, "plan", "-f", manifest(tmp_path, unknown))
    assert result.exit_code == 1
    assert f"DataSet {unknown} not found (404)" in result.stderr


def test_a_dataset_not_shared_with_the_token_is_a_403(tmp_path: Path, domo: DomoSandbox) -> None:
    hidden = str(uuid.uuid4())
    domo.dataset(hidden, readable=False)
    result = cli(domo, "plan", "-f", manifest(tmp_path, hidden))
    assert result.exit_code == 1
    assert "refused access (403)" in result.stderr
    assert "needs READ access to the DataSet" in result.stderr


def test_the_embedded_sandbox_runs_then_plans_no_changes(tmp_path: Path) -> None:
    path = manifest(tmp_path, str(uuid.uuid4()))
    db = tmp_path / "state" / "sandbox.db"
    applied = cli(None, "apply", "-f", path, "--sandbox", db, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    assert "(1,000 rows)" in applied.stdout
    assert (tmp_path / "state" / "sandbox-domo.db").exists()
    again = cli(None, "plan", "-f", path, "--sandbox", db, "--detailed-exitcode")
    assert again.exit_code == 0, all_output(again)
    assert cli(None, "drift", "-f", path, "--sandbox", db).exit_code == 0


def test_a_saved_plan_holds_no_credential_and_a_rotated_one_plans_nothing(
    tmp_path: Path,
) -> None:
    path = manifest(tmp_path, str(uuid.uuid4()))
    db, saved = tmp_path / "sandbox.db", tmp_path / "domo.plan"
    assert cli(None, "plan", "-f", path, "--sandbox", db, "--out", saved).exit_code == 0
    text = saved.read_text()
    assert ACCESS_KEY not in text and SECRET_KEY not in text and "daily-sales" in text
    applied = cli(None, "apply", saved, "--sandbox", db, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    rotated = invoke(
        "plan",
        "-f",
        path,
        "--sandbox",
        db,
        "--detailed-exitcode",
        env={"TEST_DOMO_AWS_KEY": "AKIAROTATED0002", "TEST_DOMO_AWS_SECRET": "rotated/secret"},
    )
    assert rotated.exit_code == 0, all_output(rotated)
    assert "No changes." in rotated.stdout


def test_an_empty_credential_variable_stops_at_the_manifest_not_at_apply(
    tmp_path: Path, dataset: str
) -> None:
    """GitHub Actions passes a secret that was never defined as an empty string."""
    path = manifest(tmp_path, dataset)
    env = {"TEST_DOMO_AWS_KEY": ACCESS_KEY, "TEST_DOMO_AWS_SECRET": ""}
    validated = invoke("validate", "-f", path, env=env)
    applied = invoke("apply", "--sandbox", tmp_path / "s.db", "-f", path, "--auto-approve", env=env)
    for result in (validated, applied):
        assert result.exit_code == 1
        assert (
            f"{path}:13:21: domo.s3_exports[0].credentials.secret_key: environment variable "
            "TEST_DOMO_AWS_SECRET is set but empty" in all_output(result)
        )
        assert "internal error" not in all_output(result)


def test_the_example_applies_in_the_embedded_sandbox(tmp_path: Path) -> None:
    example = Path(__file__).parents[3] / "examples" / "domo.yaml"
    env = {"DOMO_EXPORT_AWS_ACCESS_KEY_ID": ACCESS_KEY, "DOMO_EXPORT_AWS_SECRET_ACCESS_KEY": "x"}
    db = tmp_path / "sandbox.db"
    applied = invoke("apply", "--sandbox", db, "-f", example, "--auto-approve", env=env)
    assert applied.exit_code == 0, all_output(applied)
    assert "Apply complete: 2 applied, 0 failed, 0 skipped." in applied.stdout
    assert ACCESS_KEY not in all_output(applied)
    assert "No changes." in invoke("plan", "--sandbox", db, "-f", example, env=env).stdout


def test_selectors_speak_of_datasets(tmp_path: Path, dataset: str) -> None:
    path = manifest(tmp_path, dataset)
    db = tmp_path / "sandbox.db"
    kept = cli(
        None, "plan", "-f", path, "--sandbox", db, "--target", f"dataset={dataset}/daily-sales"
    )
    assert kept.exit_code == 0, all_output(kept)
    assert "+ daily-sales (s3_export)" in kept.stdout
    bad = cli(None, "plan", "-f", path, "--sandbox", db, "--target", "dataset=")
    assert bad.exit_code == 1
    assert "dataset=ID, dataset=ID/KEY, type=s3_export" in bad.stderr


# One step of a DataSet's history before apply: an export to the entry's path, one
# elsewhere, one that fails, new data, or time passing (hours).
STEPS = st.lists(
    st.one_of(
        st.sampled_from(["ours", "elsewhere", "failed", "bump"]),
        st.integers(min_value=1, max_value=12),
    ),
    max_size=4,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=STEPS)
def test_apply_then_plan_has_no_changes_unless_domo_kept_its_previous_export(
    tmp_path: Path, domo: DomoSandbox, history: list[str | int]
) -> None:
    """Whatever the DataSet's exports, after apply the plan is clean, except when Domo
    answered with its previous export (the data did not change), which apply says."""
    dataset_id = str(uuid.uuid4())
    domo.dataset(dataset_id)
    wanted = entry(dataset_id=dataset_id, query={"columns": ["Region", "Sales"]})
    for step in history:
        if isinstance(step, int):
            domo.advance(step * 3600)
        elif step == "bump":
            domo.bump(dataset_id)
        else:
            _export(domo, wanted, step)
    path = manifest(tmp_path, dataset_id)
    before = {e["exportId"] for e in exports(domo, dataset_id)}
    applied = cli(domo, "apply", "-f", path, "--auto-approve")
    assert applied.exit_code == 0, all_output(applied)
    planned = cli(domo, "plan", "-f", path)
    kept_previous = "Domo answered with its previous export" in applied.stdout
    assert ("No changes." in planned.stdout) != kept_previous, planned.stdout
    started = [e for e in exports(domo, dataset_id) if e["exportId"] not in before]
    assert len(started) <= 1  # one apply starts at most one export of the DataSet


def _export(domo: DomoSandbox, wanted: S3ExportEntry, step: str) -> None:
    """One export of the DataSet, finished: to the entry's path, elsewhere, or failed."""
    request = wanted.request
    if step == "elsewhere":
        request = replace(request, path="domo/elsewhere")
    if step == "failed":
        domo.admin("PUT", "/faults", {"job_failure_rate": 1})

    async def start() -> None:
        async with domo.client() as client:
            await client.start_export(request)

    run(start())
    domo.advance(1)  # sandbox time: the export ends
    domo.admin("PUT", "/faults", {"job_failure_rate": 0})
