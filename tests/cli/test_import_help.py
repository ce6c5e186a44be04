"""Each provider's ``import --help`` speaks of that provider and of import.

The connection options are shared with the manifest commands, whose help
names Mammoth's variable as an example and speaks of creating what the
manifest names; import reads no manifest and talks to one platform, so its
help must name that platform's own base-URL variable and what the sandbox
holds for it.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

BASE_URL_VARIABLES = {
    "mammoth": "MAMMOTH_BASE_URL",
    "mailgun": "MAILGUN_BASE_URL",
    "datatools": "DATATOOLS_BASE_URL",
}


def _option_help(provider: str, option: str) -> str:
    """The help text of one option of ``import PROVIDER``, on one line."""
    result = CliRunner().invoke(cli, ["import", provider, "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    found = re.search(rf" {option} \S+ (.*?)(?= --[a-z]| -h,)", text)
    assert found is not None, text
    return found.group(1)


def test_every_import_command_is_covered() -> None:
    result = CliRunner().invoke(cli, ["import", "--help"])
    listed = result.output.split("Commands:")[1].split()
    assert set(BASE_URL_VARIABLES) <= set(listed), listed


@pytest.mark.parametrize(("provider", "variable"), BASE_URL_VARIABLES.items())
def test_endpoint_names_the_providers_own_variable(provider: str, variable: str) -> None:
    shown = _option_help(provider, "--endpoint")
    others = [v for p, v in BASE_URL_VARIABLES.items() if p != provider]
    assert (variable in shown, [v for v in others if v in shown]) == (True, []), shown


@pytest.mark.parametrize("provider", BASE_URL_VARIABLES)
def test_sandbox_says_what_import_finds_not_what_a_manifest_creates(provider: str) -> None:
    shown = _option_help(provider, "--sandbox")
    assert "manifest" not in shown, shown
    assert "Import lists" in shown, shown
