"""``exportctl import`` end to end: import, plan shows only adoptions, apply, plan is empty.

The sandbox is seeded with exports made "by hand" (every handler type, masked
secrets, a condition, a mid-pipeline export, two writing to one table), one
export exportctl already manages (made by a real apply, so its marker is
real) and one suspended export.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.live import fetch_live
from reconciler.manifest import load_manifest
from reconciler.plan import Action, Plan
from reconciler.planner import make_plan
from reconciler.providers.base import Providers
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.provider import MammothProvider
from tests.conftest import SANDBOX_HEADERS, SandboxFactory
from tests.sandboxes import RunningSandbox

SEED = Path(__file__).parent / "seed_every_handler.yaml"
DV456 = DataviewRef(1, 1, 123, 456)
DV457 = DataviewRef(1, 1, 123, 457)
CREDENTIALS = {"MAMMOTH_API_KEY": "sandbox", "MAMMOTH_API_SECRET": "sandbox"}
SUSPENDED_ID = 5  # the csv_file export of the seed

# The secrets the seed stored, under the names import derives for them.
SECRETS = {
    "EXPORTCTL_456_POSTGRES_ANALYTICS_CUSTOMER_EXPORTS_PASSWORD": "pg-secret-1",
    "EXPORTCTL_456_POSTGRES_ANALYTICS_CUSTOMER_EXPORTS_2_PASSWORD": "pg-secret-9",
    "EXPORTCTL_456_MYSQL_OPS_ORDERS_PASSWORD": "my-secret-2",
    "EXPORTCTL_456_MSSQL_ERP_INVOICES_PASSWORD": "ms-secret-3",
    "EXPORTCTL_456_FTP_FTP_EXAMPLE_COM_OUTGOING_SALES_TSV_PASSWORD": "ftp-secret-3",
    "EXPORTCTL_456_SFTP_SALES_CSV_PRIVATE_KEY": "sftp-key-4",
    "EXPORTCTL_456_SFTP_SALES_CSV_PASSPHRASE": "sftp-pass-4",
    "EXPORTCTL_457_ELASTICSEARCH_SALES_V2_PASSWORD": "es-secret-0",
    "EXPORTCTL_457_REDSHIFT_DW_FACT_SALES_PASSWORD": "rs-secret-5",
    "EXPORTCTL_457_SHAREPOINT_ACME_SHAREPOINT_COM_SITES_FINANCE_REPORTS_SALES_XLSX_CLIENT_SECRET": (
        "sp-secret-6"
    ),
    "EXPORTCTL_457_ONEDRIVE_U_9_TEAM_SALES_CSV_CLIENT_SECRET": "od-secret-6",
    "EXPORTCTL_457_AZURE_BLOB_ACMELAKE_RAW_SALES_ORDERS_PARQUET_CLIENT_SECRET": "az-secret-6",
    "EXPORTCTL_457_TABLEAU_SERVER_TABLEAU_EXAMPLE_COM_FINANCE_SALES_ORDERS_TOKEN_SECRET": (
        "tab-secret-7"
    ),
    "EXPORTCTL_457_GENERIC_REST_API_EXPORT_HOOKS_EXAMPLE_COM_SALES_PUT_"
    "DEFAULT_HEADERS_X_API_TOKEN": "rest-secret-8",
    "EXPORTCTL_457_WAREHOUSE_ORDERS_PASSWORD": "managed-secret-9",
}

MANAGED = """\
version: 1
dataviews:
  - {workspace_id: 1, project_id: 1, dataset_id: 123, dataview_id: 457, exports: [
      {key: warehouse-orders, handler_type: postgres, run_immediately: false,
       target_properties: {host: pg.example.com, database: dw, table: orders_marked,
                           username: etl, password: "${env:PRE_PASSWORD}"}}]}
"""


def run(args: list[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env={**CREDENTIALS, **env})
    return result.exit_code, result.stdout, result.stderr


def seeded(sandbox_factory: SandboxFactory, tmp_path: Path) -> RunningSandbox:
    """The seed, plus one export exportctl manages and one suspended by hand."""
    server = sandbox_factory(seed_file=SEED)
    manifest = tmp_path / "managed.yaml"
    manifest.write_text(MANAGED)
    env = {"PRE_PASSWORD": SECRETS["EXPORTCTL_457_WAREHOUSE_ORDERS_PASSWORD"]}
    code, out, err = run(
        ["apply", "-f", str(manifest), "--endpoint", server.base_url, "--auto-approve"], env
    )
    assert code == 0, (out, err)
    suspend = {"patches": [{"op": "command", "path": "suspend", "value": None}]}
    url = f"{server.base_url}/workspaces/1/projects/1/datasets/123/dataviews/456/pipeline/exports"
    answer = httpx.patch(f"{url}/{SUSPENDED_ID}", json=suspend, headers=SANDBOX_HEADERS)
    assert answer.status_code == 202, answer.text  # Mammoth answers a PATCH with a job
    return server


def import_to(server: RunningSandbox, out: Path) -> tuple[int, str, str]:
    return run(
        ["import", "mammoth", "--dataview", str(DV457), "--dataview", str(DV456), "--endpoint",
         server.base_url, "--out", str(out)],
        {},
    )  # fmt: skip


def plan_now(server: RunningSandbox, manifest: Path) -> Plan:
    desired = load_manifest([manifest], environ=SECRETS)

    async def live() -> Any:
        client = MammothClient(server.base_url, "sandbox", "sandbox")
        async with MammothProvider(client) as provider:
            providers = Providers({"mammoth": provider})
            return await fetch_live(providers, [spec.scope for spec in desired.scopes])

    return make_plan(desired, asyncio.run(live()))


def stored_exports(server: RunningSandbox) -> list[dict[str, Any]]:
    with server.store.read() as tx:
        return [
            export
            for ref in (DV456, DV457)
            for export_id in range(1, 30)
            if (export := tx.export(ref, export_id)) is not None
        ]


def test_import_then_plan_shows_only_adoptions_without_field_changes(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = seeded(sandbox_factory, tmp_path)
    out = tmp_path / "imported.yaml"
    code, stdout, stderr = import_to(server, out)
    assert (code, stdout) == (0, "")
    assert "Imported 22 exports into" in stderr
    assert all(f"  {name}  (" in stderr for name in SECRETS)
    plan = plan_now(server, out)
    entries = [(change.action, change.fields) for _, change in plan.changes()]
    assert entries.count((Action.ADOPT, ())) == 21
    assert entries.count((Action.NOOP, ())) == 1
    assert len(entries) == 22
    code, stdout, _ = run(["plan", "-f", str(out), "--endpoint", server.base_url], SECRETS)
    assert (code, stdout.splitlines()[-1]) == (
        0,
        "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 21 to adopt.",
    )


def test_apply_after_import_converges_and_runs_nothing(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = seeded(sandbox_factory, tmp_path)
    out = tmp_path / "imported.yaml"
    assert import_to(server, out)[0] == 0
    before = {e["id"]: e for e in stored_exports(server)}
    args = ["apply", "-f", str(out), "--endpoint", server.base_url, "--auto-approve"]
    code, stdout, _ = run(args, SECRETS)
    assert code == 0, stdout
    assert not plan_now(server, out).has_changes
    plan_args = ["plan", "-f", str(out), "--endpoint", server.base_url, "--detailed-exitcode"]
    assert run(plan_args, SECRETS)[0] == 0
    after = {e["id"]: e for e in stored_exports(server)}
    assert {i: e["target_properties"] for i, e in after.items()} == {
        i: e["target_properties"] for i, e in before.items()
    }  # every secret written back as it was
    assert [i for i, e in after.items() if e["execution_start_time"] is not None] == []
    assert after[SUSPENDED_ID]["status"] == "suspended"


def test_import_is_deterministic_and_valid(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    server = seeded(sandbox_factory, tmp_path)
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    assert import_to(server, first)[0] == 0
    assert import_to(server, second)[0] == 0
    assert first.read_bytes() == second.read_bytes()
    code, stdout, _ = run(["validate", "-f", str(first)], SECRETS)
    assert (code, stdout) == (0, "Valid: 2 dataviews, 22 exports in 1 file.\n")
    text = first.read_text()
    assert text.startswith("# yaml-language-server: $schema=./manifest.schema.json\n")
    assert "# imported from export 5 of dataview 1/1/123/456 (status suspended)\n" in text
    assert "message: See $${env:literally} attached\n" in text
    assert all(secret not in text for secret in SECRETS.values())


PROTECTED = """\
version: 1
dataviews:
  - {workspace_id: 1, project_id: 1, dataset_id: 123, dataview_id: 456, exports: [
      {key: kept, handler_type: s3, run_immediately: false, protect: true,
       target_properties: {file: kept.csv}},
      {key: loose, handler_type: s3, run_immediately: false,
       target_properties: {file: loose.csv}}]}
"""


def test_an_export_applied_with_protect_is_imported_protected(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    # protect lives only in the marker: an import that dropped it would plan
    # the protection lifted, and the apply after would make the export deletable.
    server = sandbox_factory()
    server.store.ensure_dataviews([DV456])
    manifest = tmp_path / "protected.yaml"
    manifest.write_text(PROTECTED)
    args = ["apply", "-f", str(manifest), "--endpoint", server.base_url, "--auto-approve"]
    assert run(args, {})[0] == 0
    out = tmp_path / "imported.yaml"
    args = ["import", "mammoth", "--dataview", str(DV456), "--endpoint", server.base_url]
    assert run([*args, "--out", str(out)], {})[0] == 0
    imported = yaml.safe_load(out.read_text())["dataviews"][0]["exports"]
    assert {e["key"]: e.get("protect") for e in imported} == {"kept": True, "loose": None}
    plan = plan_now(server, out)
    assert [(c.action, c.reason) for _, c in plan.changes()] == [
        (Action.NOOP, "up to date"),
        (Action.NOOP, "up to date"),
    ]
