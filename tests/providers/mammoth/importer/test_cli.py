"""``exportctl import`` options: refusals with their exact texts, stdout output."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.providers.mammoth.import_cmd import ALL_IN_PROJECT_UNSUPPORTED, NOTHING_TO_IMPORT
from reconciler.providers.mammoth.model import DataviewRef
from tests.conftest import SandboxFactory

CREDENTIALS = {"MAMMOTH_API_KEY": "sandbox", "MAMMOTH_API_SECRET": "sandbox"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=CREDENTIALS)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all-in-project", "1/1"], ALL_IN_PROJECT_UNSUPPORTED),
        ([], NOTHING_TO_IMPORT),
        (
            ["--dataview", "1/1/123"],
            "Invalid value for '--dataview': expected WORKSPACE/PROJECT/DATASET/DATAVIEW "
            "ids, got '1/1/123'",
        ),
    ],
)
def test_refusals_name_the_problem_and_the_fix(args: list[str], message: str) -> None:
    code, out, err = run("import", "mammoth", *args, "--endpoint", "http://127.0.0.1:9/api/v2")
    assert (code, out) == (1, "")
    assert err.endswith(f"{message}\n")


def test_an_existing_out_file_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "exports.yaml"
    out.write_text("mine\n")
    code, _, err = run(
        "import", "mammoth", "--dataview", "1/1/1/1", "--out", str(out), "--sandbox", "x.db"
    )
    assert code == 1
    assert err == (
        f"Error: {out} already exists; import writes only new files. "
        "Choose another path, or move the file away first.\n"
    )
    assert out.read_text() == "mine\n"


def test_an_unknown_dataview_fails_then_an_empty_one_imports_to_stdout(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory()
    code, out, err = run(
        "import", "mammoth", "--dataview", "1/1/2/3", "--endpoint", server.base_url
    )
    assert code == 1  # the dataview does not exist on the server
    assert "dataview 1/1/2/3" in err
    server.store.ensure_dataviews([DataviewRef(1, 1, 2, 3)])
    code, out, err = run(
        "import", "mammoth", "--dataview", "1/1/2/3", "--endpoint", server.base_url
    )
    assert (code, err) == (0, "Imported 0 exports into stdout.\n")
    assert out.endswith("    dataview_id: 3\n    prune: managed\n    exports: []\n")
