"""The provider registry: built-ins by name, third-party providers by entry point."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import providers
from reconciler.errors import ConfigError, ManifestError
from reconciler.manifest.loader import guess_scopes, load_manifest
from reconciler.providers.mammoth.provider import FACTORY as MAMMOTH

# Every built-in provider, in registry order (the table grows with each platform).
BUILT_IN = list(providers._BUILTIN)

PLUGIN = """\
class Factory:
    name = "acme"
    sections = ("acme_exports",)

    def open(self, connection, desired, scopes=()):
        raise NotImplementedError("a registry test never opens it")


FACTORY = Factory()
IMPOSTOR = Factory()
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A distribution on sys.path declaring two providers, as ``pip install`` would leave it."""
    (tmp_path / "acme_exportctl.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "acme_exportctl-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-exportctl\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{providers.ENTRY_POINT_GROUP}]\n"
        "acme = acme_exportctl:FACTORY\n"
        "mammoth = acme_exportctl:IMPOSTOR\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget()
    yield
    _forget()


def _forget() -> None:
    providers.factory.cache_clear()
    providers._entry_points.cache_clear()


def test_a_builtin_is_found_by_name_and_owns_its_sections() -> None:
    assert providers.factory("mammoth") is MAMMOTH
    owners = providers.section_owners()
    assert (owners["dataviews"], owners["defaults"]) == ("mammoth", "mammoth")
    assert "no_such_section" not in owners


def test_the_registry_table_names_the_sections_each_factory_declares() -> None:
    """The table lets a load skip importing unused providers; it must not drift."""
    for name in providers.provider_names():
        owned = {s for s, owner in providers.section_owners().items() if owner == name}
        assert owned == set(providers.factory(name).sections)


def test_the_registry_table_names_the_section_loader_each_factory_makes() -> None:
    for name in providers.provider_names():
        named = type(providers.section_loader(name))
        assert named is type(providers.factory(name).section_loader())


def test_validating_a_manifest_imports_no_http_client(tmp_path: Path) -> None:
    """``validate`` reads sections only: its start-up pays neither for httpx nor,
    with built-in sections only, for a search of installed packages."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\ndataviews:\n  - {workspace_id: 1, project_id: 1, dataset_id: 1,"
        " dataview_id: 1, exports: [{key: a, handler_type: s3,"
        " target_properties: {file: a.csv}}]}\n"
    )
    code = (
        "import sys; from reconciler.manifest import load_manifest; "
        f"load_manifest([{str(manifest)!r}], environ={{}}); "
        "print(sorted(m for m in ('httpx', 'httpcore', 'importlib.metadata') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


@pytest.mark.usefixtures("installed_plugin")
def test_an_entry_point_adds_a_provider() -> None:
    plugin = providers.factory("acme")
    assert (plugin.name, plugin.sections) == ("acme", ("acme_exports",))
    assert providers.section_owners()["acme_exports"] == "acme"
    assert providers.provider_names() == [*BUILT_IN, "acme"]  # built-ins first


@pytest.mark.usefixtures("installed_plugin")
def test_sections_all_built_in_need_no_entry_points() -> None:
    assert providers.section_owners(["dataviews", "mailgun"]) == providers._BUILTIN_OWNERS
    assert providers._entry_points.cache_info().currsize == 0  # never looked


@pytest.mark.usefixtures("installed_plugin")
def test_a_manifest_of_built_in_sections_is_loaded_and_guessed_without_entry_points(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\ndefaults: {run_immediately: false}\ndataviews:\n"
        "  - {workspace_id: 1, project_id: 1, dataset_id: 1, dataview_id: 1, exports: []}\n"
    )
    assert [scope.address for scope in guess_scopes([manifest])] == ["1/1/1/1"]
    assert load_manifest([manifest], environ={}).entry_count() == 0
    assert providers._entry_points.cache_info().currsize == 0
    manifest.write_text("version: 1\nno_such_section: []\n")
    with pytest.raises(ManifestError):
        load_manifest([manifest], environ={})
    assert providers._entry_points.cache_info().currsize == 1  # looked: a plugin might own it


@pytest.mark.usefixtures("installed_plugin")
@pytest.mark.parametrize("used", [["dataviews", "acme_exports"], ["no_such_section"], [], None])
def test_any_other_section_or_none_looks_for_entry_points(used: list[str] | None) -> None:
    assert providers.section_owners(used)["acme_exports"] == "acme"


@pytest.mark.usefixtures("installed_plugin")
def test_an_entry_point_cannot_take_over_a_builtin_name() -> None:
    assert providers.factory("mammoth") is MAMMOTH


def test_an_unknown_provider_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        providers.factory("nope")
    known = ", ".join(BUILT_IN)
    assert caught.value.message == f"unknown provider 'nope'; this exportctl knows: {known}"
