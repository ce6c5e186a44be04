"""The command `sandbox serve --help` suggests must work from a fresh shell."""

from click.testing import CliRunner

from reconciler.cli.main import cli


def test_the_suggested_client_command_sets_the_credentials_it_needs() -> None:
    # The client never defaults the key and secret, so a suggestion without
    # them failed with "MAMMOTH_API_KEY and MAMMOTH_API_SECRET are not set".
    shown = CliRunner().invoke(cli, ["sandbox", "serve", "--help"]).output
    block = shown.split("Point exportctl at it, e.g. for Mammoth:\n", 1)[1].split("\n\n", 1)[0]
    suggestion = block.replace("\\", " ").split()
    assert suggestion[:3] == [
        "MAMMOTH_API_KEY=sandbox",
        "MAMMOTH_API_SECRET=sandbox",
        "MAMMOTH_BASE_URL=http://127.0.0.1:8765/api/v2",
    ]
