"""One clear message per error, exit 1, no traceback, and never a credential or secret."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.support import SECRET, all_output, invoke, lines, write_manifest
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

WRONG_SECRET = "wrong-Api-Secret-4711"
SELECTOR_FORMS = (
    "dataview=ID, dataview=W/P/D/V, dataview=ID/KEY, dataview=W/P/D/V/KEY, handler=TYPE, "
    "key=KEY, provider=NAME, type=TYPE"
)


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: bind a free port, then release it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"


def _wrong_credential(server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MAMMOTH_API_SECRET", WRONG_SECRET)
    return server.base_url


def _unreachable(server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    return _closed_port_url()


def _no_api_path(server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    return server.root_url  # the server, but not the API root under /api/v2


def _no_credentials(server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("MAMMOTH_API_KEY")
    return server.base_url


Setup = Callable[[RunningSandbox, pytest.MonkeyPatch], str]


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            _wrong_credential,
            "Error: The API rejected the credentials (401) at {url}. Check MAMMOTH_API_KEY "
            "and MAMMOTH_API_SECRET, and that --endpoint / MAMMOTH_BASE_URL is the server "
            "they belong to.",
        ),
        (
            _unreachable,
            "Error: Cannot reach the Mammoth API at {url} to list the exports of dataview "
            "1/1/123/456 (ConnectError: connection refused by {host_port}; 5 attempts). "
            "Check --endpoint or MAMMOTH_BASE_URL, and the network (DNS, proxy, firewall).",
        ),
        (
            _no_api_path,
            "Error: Not found (404) at {url}: its path does not end in /api/v2, so the "
            "endpoint is likely wrong, not the ids. Is --endpoint / MAMMOTH_BASE_URL the API "
            "root, like https://app.mammoth.io/api/v2?",
        ),
        (
            _no_credentials,
            "Error: MAMMOTH_API_KEY is not set. Export the Mammoth API key and secret in "
            "those environment variables (credentials are never taken from flags), or use "
            "--sandbox to run against the embedded sandbox.",
        ),
    ],
)
def test_connection_errors(
    server: RunningSandbox,
    manifest: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    setup: Setup,
    message: str,
) -> None:
    url = setup(server, monkeypatch)
    result = invoke(command, "-f", manifest, "--endpoint", url)
    assert (result.exit_code, result.stdout, lines(result.stderr)) == (
        1,
        "",
        [message.format(url=url, host_port=url.split("/")[2])],
    )
    assert WRONG_SECRET not in all_output(result)
    assert SECRET not in all_output(result)


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_malformed_manifest_names_every_problem(
    server: RunningSandbox, tmp_path: Path, command: str
) -> None:
    bad = write_manifest(tmp_path, "version: 1\ndataviews:\n  - workspace_id: 1\n    colour: red\n")
    result = invoke(command, "-f", bad, "--endpoint", server.base_url)
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [
            f"Error: {bad}:3:5: dataviews[0]: missing required field 'dataset_id'",
            f"{bad}:3:5: dataviews[0]: missing required field 'dataview_id'",
            f"{bad}:3:5: dataviews[0]: missing required field 'exports'",
            f"{bad}:3:5: dataviews[0]: missing required field 'project_id'",
            f"{bad}:4:5: dataviews[0].colour: unknown field 'colour'; expected one of: "
            "workspace_id, project_id, dataset_id, dataview_id, prune, unmanaged, exports",
            "5 errors in the manifest.",
        ],
    )


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize(
    ("option", "selector", "problem"),
    [
        ("--target", "colour=red", "unknown selector 'colour'"),
        (
            "--exclude",
            "dataview=x",
            "a dataview is an id or W/P/D/V ids, optionally followed by /KEY",
        ),
        ("--target", "handler=carrier-pigeon", "unknown handler type 'carrier-pigeon'"),
    ],
)
def test_bad_selector_fails_before_any_request(
    manifest: Path, command: str, option: str, selector: str, problem: str
) -> None:
    # The closed port shows no request was needed to reject the selector.
    result = invoke(command, "-f", manifest, "--endpoint", _closed_port_url(), option, selector)
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [f"Error: invalid selector {selector!r}: {problem}. Accepted forms: {SELECTOR_FORMS}"],
    )


def test_show_names_a_missing_plan_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.plan"
    result = invoke("show", missing)
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [
            f"Error: Saved plan {missing} not found. Check the path, or create it with "
            f"`exportctl plan --out {missing}`."
        ],
    )


def test_show_refuses_plan_json_that_is_not_a_plan_file(
    server: RunningSandbox, manifest: Path, tmp_path: Path
) -> None:
    stdout_json = tmp_path / "plan.json"
    planned = invoke("plan", "-f", manifest, "--endpoint", server.base_url, "--format", "json")
    stdout_json.write_text(planned.stdout)
    result = invoke("show", stdout_json)
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [
            f"Error: {stdout_json} is not an exportctl plan file. Pass the file written by "
            "`exportctl plan --out` (not the output of `plan --format json`)."
        ],
    )


def test_import_points_an_unknown_dataview_at_the_command_line(server: RunningSandbox) -> None:
    result = invoke("import", "mammoth", "--dataview", "1/1/123/999", "--endpoint", server.base_url)
    assert (result.exit_code, result.stdout, lines(result.stderr)) == (
        1,
        "",
        [
            f"Error: dataview 1/1/123/999 not found (404) at {server.base_url}: check the ids "
            "given as --dataview 1/1/123/999 (workspace/project/dataset/dataview)."
        ],
    )


@pytest.mark.parametrize("command", ["plan", "import mammoth"])
def test_a_wrong_endpoint_is_one_message_whatever_the_dataviews(
    server: RunningSandbox, manifest: Path, command: str
) -> None:
    both = ["--dataview", "1/1/123/456", "--dataview", "1/1/123/457"]
    source = ["-f", str(manifest)] if command == "plan" else both  # two dataviews either way
    result = invoke(*command.split(), *source, "--endpoint", server.root_url)
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [
            f"Error: Not found (404) at {server.root_url}: its path does not end in /api/v2, "
            "so the endpoint is likely wrong, not the ids. Is --endpoint / MAMMOTH_BASE_URL "
            "the API root, like https://app.mammoth.io/api/v2?"
        ],
    )
