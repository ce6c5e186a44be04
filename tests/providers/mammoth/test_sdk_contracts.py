"""Every handler's target, built as the current official SDK's contract says, is
accepted by validate, by the sandbox and by apply's preflight.

``CONTRACTS`` restates, per handler, what ``mammoth-io`` 0.8.52 enforces in
``mammoth/_pure/builders.py`` (``_EXPORT_CONTRACTS``): required keys (non-empty),
optional keys, defaults, and whether other keys are let through.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.manifest import check_manifest
from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.jobs import job_state
from tests.apply.convergence import assert_converged
from tests.apply.helpers import REF, apply_now, desired, spec
from tests.conftest import SandboxFactory

_DB = (("host", "username", "password", "database", "table"), ("port",))
CONTRACTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, Any], bool]] = {
    "postgres": (*_DB, {"port": 5432}, False),
    "mysql": (*_DB, {"port": 3306}, False),
    "mssql": (*_DB, {"port": 1433}, False),
    "redshift": (*_DB, {"port": 5439}, False),
    "s3": (("file",), ("file_type", "include_hidden", "is_format_set", "use_format"), {}, False),
    "email": (("emails",), ("message", "resource", "subject"), {}, False),
    "ftp": (
        ("domain", "username", "password", "directory", "file"),
        ("port",),
        {"port": 21},
        False,
    ),
    "sftp": (
        ("host", "username"),
        (
            "port",
            "password",
            "directory",
            "file_name",
            "ssh_key_authentication",
            "private_key",
            "passphrase",
            "randomize_file_name",
        ),
        {"port": 22},
        False,
    ),
    "elasticsearch": (
        ("host", "username", "password", "index", "connection"),
        ("port", "chunksize"),
        {"port": 9243, "chunksize": 200},
        False,
    ),
    "azure_blob": (
        ("storage_account_name", "tenant_id", "client_id", "client_secret", "container_name"),
        ("folder_path", "file_name"),
        {},
        False,
    ),
    "sharepoint": (
        ("tenant_id", "client_id", "client_secret", "site_url"),
        ("document_library", "folder_path", "file_name"),
        {},
        False,
    ),
    "onedrive": (
        ("tenant_id", "client_id", "client_secret", "user_id"),
        ("folder_path", "file_name"),
        {},
        False,
    ),
    "bigquery": (
        ("selected_profile", "selected_identity", "table"),
        ("exportType", "upsertKeys", "partition", "database", "host"),
        {},
        True,
    ),
    "generic_rest_api_export": (
        ("base_url", "endpoint_path"),
        (
            "auth_type",
            "http_method",
            "wrap_path",
            "batch_size",
            "timeout_seconds",
            "rate_limit_requests_per_second",
            "ssl_verify",
            "default_headers",
            "request_headers",
            "query_params",
            "extra_body_fields",
        ),
        {},
        True,
    ),
    "publishdb": (("odbc_type", "table"), ("database", "project_id", "dataset"), {}, False),
    "tableau_server": (
        ("server_url", "token_name", "token_secret"),
        ("site_name", "project_name", "datasource_name", "ca_bundle_path"),
        {},
        False,
    ),
}
# The secrets each handler takes, redacted everywhere.
SECRETS = {
    **{name: {"password"} for name in ("postgres", "mysql", "mssql", "redshift", "ftp")},
    "elasticsearch": {"password"},
    "sftp": {"password", "private_key", "passphrase"},
    **{name: {"client_secret"} for name in ("azure_blob", "sharepoint", "onedrive")},
    "tableau_server": {"token_secret"},
}


def sdk_target(handler: str) -> dict[str, Any]:
    """The required keys only, each with a value of its type, as a caller of the SDK sends."""
    properties = handlers.target_schema(handler)["properties"]
    target: dict[str, Any] = {}
    for name in CONTRACTS[handler][0]:
        field = properties[name]
        if "enum" in field:
            target[name] = field["enum"][0]
        elif field.get("type") == "array":
            target[name] = [f"{handler}@example.com"]
        else:
            target[name] = f"{handler}-{name}"
    return target


@pytest.mark.parametrize("handler", sorted(CONTRACTS))
def test_the_target_schema_is_the_sdks_contract(handler: str) -> None:
    required, optional, defaults, extra = CONTRACTS[handler]
    schema = handlers.target_schema(handler)
    assert set(schema["required"]) == set(required)
    assert set(schema["properties"]) == set(required) | set(optional)
    assert {k: v for k, v in handlers.target_defaults(handler).items() if k in defaults} == defaults
    assert ("additionalProperties" not in schema) is extra
    assert handlers.secret_fields(handler) == SECRETS.get(handler, set())


def test_sixteen_handlers_have_an_sdk_contract_and_the_rest_keep_their_own() -> None:
    assert len(CONTRACTS) == 16
    assert set(handlers.HANDLER_TYPES) - set(CONTRACTS) == {
        "csv_file",
        "internal_dataset",
        "powerbi",
    }


@pytest.mark.parametrize("handler", sorted(CONTRACTS))
def test_a_blank_required_key_is_refused_as_the_sdk_refuses_it(handler: str, tmp_path: Any) -> None:
    target = sdk_target(handler)
    name = CONTRACTS[handler][0][0]
    target[name] = [] if isinstance(target[name], list) else "  "
    if "enum" in handlers.target_schema(handler)["properties"][name]:
        target[name] = ""
    manifest = tmp_path / "m.yaml"
    manifest.write_text(_manifest({handler: target}))
    state, problems = check_manifest([manifest], environ={})
    assert state is None
    assert any(f"target_properties.{name}" in str(p) for p in problems), problems


def _manifest(targets: dict[str, dict[str, Any]]) -> str:
    exports = ", ".join(
        json.dumps({"key": f"k-{h.replace('_', '-')}", "handler_type": h, "target_properties": t})
        for h, t in targets.items()
    )
    return (
        "version: 1\ndataviews:\n  - {workspace_id: 1, project_id: 1, dataset_id: 123, "
        f"dataview_id: 456, exports: [{exports}]}}\n"
    )


def test_every_handler_built_the_sdks_way_passes_validate_the_sandbox_and_preflight(
    sandbox_factory: SandboxFactory, tmp_path: Any
) -> None:
    manifest = tmp_path / "all.yaml"
    manifest.write_text(_manifest({h: sdk_target(h) for h in sorted(CONTRACTS)}))
    state, problems = check_manifest([manifest], environ={})
    assert problems == [] and state is not None
    server = sandbox_factory()
    server.store.ensure_dataviews([REF])
    exports = [spec(f"k-{h}", h, sdk_target(h)) for h in sorted(CONTRACTS)]
    result = apply_now(server.base_url, desired((REF, exports)))
    assert result.ok, [a.message for a in result.actions()]
    assert result.preflight_failures == ()
    assert_converged(server.base_url, desired((REF, exports)))


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"error": "refused"}, "refused"),
        ({"response": {"detail": "bad table"}}, "bad table"),
        ({"response": {"error": "no such host"}}, "no such host"),
        ({"reason": "future failed"}, "future failed"),
        ({"failure_reason": "older servers"}, "older servers"),
        ({}, "no detail given"),
    ],
)
def test_a_failed_jobs_reason_is_read_wherever_the_sdk_reads_it(
    response: dict[str, Any], reason: str
) -> None:
    state = job_state({"id": 3, "status": "failure", "response": response})
    assert (state.finished, state.failure) == (True, reason)
