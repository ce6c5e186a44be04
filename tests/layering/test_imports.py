"""The layering the provider seam promises, checked on the source itself.

The core may use the seam (``reconciler.providers`` and its ``base``) but no
provider's package, so that adding a platform never means editing the core.
The planner must stay pure: importing it loads no network, database or
applier code.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST) -> set[str]:
    """Every module a file imports, with ``from reconciler.providers import X`` as ``...X``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "reconciler.providers":
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _provider_imports(imported: set[str]) -> set[str]:
    """The imports that reach into a provider's package, not just the seam."""
    packages = {p.name for p in (PACKAGE / "providers").iterdir() if (p / "__init__.py").exists()}
    return {
        name
        for name in imported
        if name.startswith("reconciler.providers.") and name.split(".")[2] in packages
    }


def test_no_core_module_imports_a_provider_package() -> None:
    welded = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if name.startswith("reconciler.providers"):
            continue
        if _provider_imports(_imported(ast.parse(path.read_text(encoding="utf-8")))):
            welded.add(name)
    assert welded == set()


def test_only_the_registry_names_a_builtin_provider() -> None:
    """Outside ``reconciler/providers/``, no module names a provider's package in code.

    Catches the lazy imports the AST rule above cannot see (a module path in a
    string), so a core command cannot reach into one provider by name.
    """
    packages = [p.name for p in (PACKAGE / "providers").iterdir() if (p / "__init__.py").exists()]
    for path in sorted(PACKAGE.rglob("*.py")):
        if _module_name(path).startswith("reconciler.providers"):
            continue
        text = path.read_text(encoding="utf-8")
        for package in packages:
            assert f"reconciler.providers.{package}" not in text, (path, package)


def test_the_apply_and_listing_code_knows_only_the_seam() -> None:
    """The parts already behind the seam stay there (a subset of the rule above)."""
    names = (
        "apply",
        "render",
        "manifest",
        "live.py",
        "plan.py",
        "planner.py",
        "snapshot_planner.py",
        "kinds.py",
        "identity.py",
        "normalize.py",
        "selectors.py",
        "plan_json.py",
        "drift_json.py",
        "planfile.py",
        "cli/session.py",
    )
    for name in names:
        for path in sorted((PACKAGE / name).rglob("*.py")) if "." not in name else [PACKAGE / name]:
            imported = _imported(ast.parse(path.read_text(encoding="utf-8")))
            assert not _provider_imports(imported), path


def test_importing_the_planner_loads_no_io_module() -> None:
    code = "import sys, reconciler.planner; print('\\n'.join(sorted(m for m in sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    forbidden = {
        "httpx",
        "httpcore",
        "sqlite3",
        "starlette",
        "uvicorn",
        "reconciler.apply",
        "reconciler.http",
        "reconciler.live",
        "reconciler.sandbox",
        "reconciler.providers.mammoth",
    }
    assert not forbidden & loaded
