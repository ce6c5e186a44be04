"""`sandbox serve` refuses an unusable --db with a message, not an internal error."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("folder", "OperationalError: unable to open database file"),
        ("notes.txt", "DatabaseError: file is not a database"),
    ],
)
def test_an_unusable_db_is_refused_with_what_to_do(tmp_path: Path, name: str, problem: str) -> None:
    db = tmp_path / name
    if name == "folder":
        db.mkdir()
    else:
        db.write_text("not sqlite, just some notes\n" * 100, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--port", "0", "--db", str(db)])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot open the sandbox database {str(db)!r} ({problem}). "
        "Pass a writable SQLite file path to --db.\n",
    )
