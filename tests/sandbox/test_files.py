"""What a --sandbox DB path holds, told apart before anything opens it."""

from pathlib import Path

import pytest

from reconciler.sandbox.files import SQLITE_HEADER, NotADatabase, not_a_sandbox_db


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"", None),
        (SQLITE_HEADER + bytes(84), None),
        (b'\n  {"kind": "exportctl-plan-file"}', NotADatabase.SAVED_PLAN),
        (b"[]", NotADatabase.SAVED_PLAN),
        (b"# exports\nversion: 1\ndataviews: []\n", NotADatabase.MANIFEST),
        (b"dataviews:\n  - workspace_id: 1\n", NotADatabase.MANIFEST),
        (b"SQLite format 2\x00", NotADatabase.OTHER),
        (b"\x00\x01binary", NotADatabase.OTHER),
    ],
)
def test_what_a_sandbox_db_path_holds(
    tmp_path: Path, content: bytes, found: NotADatabase | None
) -> None:
    path = tmp_path / "given"
    path.write_bytes(content)
    assert not_a_sandbox_db(str(path)) == found
    assert path.read_bytes() == content


def test_a_missing_sandbox_db_or_a_directory() -> None:
    assert not_a_sandbox_db("/nonexistent/dir/sandbox.db") is None
    assert not_a_sandbox_db("/") is NotADatabase.DIRECTORY


def test_each_provider_keeps_its_own_file_beside_the_given_one() -> None:
    from reconciler.sandbox.files import provider_file

    assert provider_file(Path(".exportctl/sandbox.db"), "mailgun") == Path(
        ".exportctl/sandbox-mailgun.db"
    )
    assert provider_file(Path("data"), "domo") == Path("data-domo.db")
