"""Every broken manifest in ``broken/`` produces exactly the diagnostics it lists.

Each case is one small file (or a directory, for cross-file rules) whose
``# expect: LINE:COL: path: message`` comments give the full diagnostics for
that file, in order (``<broken>`` stands for this directory, in messages that
name another place). Adding a case is adding a file.
"""

from pathlib import Path

import pytest

from reconciler.manifest import check_manifest
from reconciler.manifest.files import find_files

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.iterdir())
# PG_PASSWORD is set so that only the variable a case is about is missing;
# EXPORTCTL_TEST_EMPTY is set but empty, as CI passes a secret never defined.
ENVIRON = {"PG_PASSWORD": "not-shown-anywhere", "EXPORTCTL_TEST_EMPTY": ""}


def expected_diagnostics(case: Path) -> list[str]:
    files, _ = find_files([case])
    expected = []
    for file in files:
        for line in file.read_bytes().decode("utf-8", "replace").splitlines():
            if line.startswith("# expect: "):
                text = line.removeprefix("# expect: ").replace("<broken>", str(BROKEN))
                expected.append(f"{file}:{text}")
    return expected


def test_the_corpus_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_manifest_reports_exactly_its_expected_diagnostics(case: Path) -> None:
    expected = expected_diagnostics(case)
    state, diagnostics = check_manifest([case], environ=ENVIRON)
    assert expected, f"{case.name} lists no '# expect:' line"
    assert state is None
    assert [str(d) for d in diagnostics] == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_no_diagnostic_shows_an_environment_value(case: Path) -> None:
    _, diagnostics = check_manifest([case], environ=ENVIRON)
    assert not any(ENVIRON["PG_PASSWORD"] in str(d) for d in diagnostics)
