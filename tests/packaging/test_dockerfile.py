"""The Dockerfile's install steps work, run as written against a clean virtualenv.

No Docker daemon runs in CI, so the test reads the Dockerfile and replays its
steps here: the build stage's ``COPY`` lines lay out a build context (what
``.dockerignore`` leaves out stays out), its ``pip wheel`` builds the wheel,
and the final stage's ``pip install`` installs it into a fresh virtualenv.
Only two things differ from a real build, both to need no network: pip gets
``--no-index`` (and ``--no-build-isolation``, the build backend coming from
this environment), and the new virtualenv sees this environment's packages
for exportctl's dependencies, as the image would get them from PyPI.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Stage:
    """One ``FROM`` stage: its base image, name and instructions in order."""

    image: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [value for name, value in self.steps if name == instruction]


def stages() -> list[Stage]:
    found: list[Stage] = []
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, value = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            image, _, name = value.partition(" AS ")
            found.append(Stage(image.strip(), name.strip() or None))
        else:
            found[-1].steps.append((instruction.upper(), value.strip()))
    return found


def ignored_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [p.removeprefix("**/") for p in lines if p.strip() and not p.startswith("#")]


def lay_out_context(stage: Stage, workdir: Path) -> None:
    """What the stage's ``COPY`` lines put in its work directory."""
    patterns = ignored_patterns()

    def ignore(_directory: str, names: list[str]) -> set[str]:
        return {n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)}

    for value in stage.values("COPY"):
        *sources, destination = shlex.split(value)
        assert not any(s.startswith("--") for s in sources), "only the final stage copies --from"
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, workdir / destination, ignore=ignore)
            else:  # "COPY a b ./" copies into a directory, "COPY a b" names the file
                shutil.copy(ROOT / source, workdir / destination)


def pip_steps(stage: Stage) -> list[list[str]]:
    """The ``pip`` commands of the stage's ``RUN`` lines (other commands are not pip's)."""
    commands = [part.strip() for run in stage.values("RUN") for part in run.split("&&")]
    return [shlex.split(c) for c in commands if c.startswith("pip ")]


def offline(command: list[str], wheels: Path, *, python: Path) -> list[str]:
    """A Dockerfile pip command as this test runs it: no index, paths made local."""
    args = [str(wheels) if a == "/wheels" else a for a in command[1:]]
    if args[0] == "install":
        args = [*args[:1], *_glob(args[1:], wheels), "--no-deps"]
    return [sys.executable, "-m", "pip", "--python", str(python), *args, "--no-index"]


def _glob(args: list[str], wheels: Path) -> list[str]:
    return [
        str(match) for a in args for match in (sorted(wheels.glob("*.whl")) if "*" in a else [a])
    ]


def _venv_seeing_this_environment(path: Path) -> Path:
    """A new virtualenv (no pip, no exportctl) that imports this one's dependencies.

    A ``.pth`` line adds this environment's site-packages after the venv's own,
    so the wheel installed into the venv is the exportctl it imports; ``.pth``
    files inside the added directory (the editable install's) are not run.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "deps.pth").write_text(ours + "\n", encoding="utf-8")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a clean venv after the Dockerfile's install steps."""
    tmp = tmp_path_factory.mktemp("docker")
    build, final = stages()
    workdir = tmp / "src"
    workdir.mkdir()
    lay_out_context(build, workdir)
    wheels = tmp / "wheels"
    python = _venv_seeing_this_environment(tmp / "venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for command in pip_steps(build):
        wheel = [*offline(command, wheels, python=Path(sys.executable)), "--no-build-isolation"]
        subprocess.run(wheel, cwd=workdir, check=True, env=env, capture_output=True)
    for command in pip_steps(final):
        subprocess.run(offline(command, wheels, python=python), check=True, env=env)
    return python.parent


def run_installed(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(bin_dir / "exportctl"), *args], capture_output=True, text=True, env=env, cwd=bin_dir
    )


def test_the_installed_entry_point_reports_the_projects_version(installed: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    result = run_installed(installed, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"exportctl, version {version}\n"


def test_the_image_imports_the_installed_wheel_and_finds_its_schemas(installed: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import reconciler; print(reconciler.__file__)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd=installed,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)
    schema = run_installed(installed, "schema", "--target", "s3")
    assert schema.returncode == 0, schema.stderr
    assert '"file_type"' in schema.stdout


def test_the_image_runs_exportctl_as_a_user_other_than_root() -> None:
    final = stages()[-1]
    assert final.image.startswith("python:") and final.image.endswith("-slim")
    users = final.values("USER")
    assert users and users[-1] not in ("root", "0")
    assert final.values("ENTRYPOINT") == ['["exportctl"]']


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    patterns = ignored_patterns()
    for name in (".git", ".venv", ".exportctl", "sandbox.db", ".env"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
