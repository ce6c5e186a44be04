"""Whatever the bytes, the loader answers with a model or with diagnostics, never a crash."""

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifest import check_manifest

FIELDS = [
    "version",
    "defaults",
    "dataviews",
    "workspace_id",
    "project_id",
    "dataset_id",
    "dataview_id",
    "prune",
    "exports",
    "key",
    "handler_type",
    "trigger_type",
    "target_properties",
    "condition",
    "sequence",
    "ignore_changes",
    "sensitive",
    "additional_properties",
    "file",
    "exportctl",
    "s3",
    "postgres",
    "${env:X}",
    "<<",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 500),
    st.floats(allow_nan=False),
    st.sampled_from(FIELDS),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=30,
)
YAML_BITS = [
    "version: 1\n",
    "dataviews:\n",
    "  - ",
    "key: a\n",
    "&a ",
    "*a ",
    "[",
    "]",
    "{",
    "}",
    "\t",
    "---\n",
    "<<: ",
    "!!python/name:os.system ",
    "'",
    '"',
    ": ",
    "- ",
    "\n  ",
]
yaml_texts = st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=8), max_size=25).map("".join)

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_model_or_diagnostics(path: Path) -> None:
    state, diagnostics = check_manifest([path], environ={"X": "x"})
    assert (state is None) == bool(diagnostics)
    assert all(d.location is not None and d.location.line >= 1 for d in diagnostics)


@SETTINGS
@given(documents)
def test_random_structures_dumped_to_yaml_never_crash_the_loader(
    tmp_path: Path, document: object
) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(document))
    assert_model_or_diagnostics(path)


@SETTINGS
@given(yaml_texts)
def test_random_yaml_text_never_crashes_the_loader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    assert_model_or_diagnostics(path)


@SETTINGS
@given(st.lists(documents, min_size=1, max_size=3))
def test_random_manifest_shaped_documents_never_crash_the_loader(
    tmp_path: Path, exports: list[object]
) -> None:
    document = {
        "version": 1,
        "dataviews": [
            {
                "workspace_id": 1,
                "project_id": 1,
                "dataset_id": 1,
                "dataview_id": 1,
                "exports": exports,
            }
        ],
    }
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(document))
    assert_model_or_diagnostics(path)
