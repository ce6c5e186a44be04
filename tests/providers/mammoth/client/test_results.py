"""Reading mutation answers and showing endpoints: pure functions, no I/O."""

from typing import Any

import pytest

from reconciler.providers.mammoth.client import MutationResult, endpoint_label


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (201, {"trigger_id": 7, "status": "added"}, (7, None, "added")),
        (201, {"trigger_id": 7, "status": None, "future_id": 12}, (7, 12, None)),
        (202, {"job": {"id": 3, "status": "processing", "response": {}}}, (None, 3, "processing")),
        (
            202,
            {"job": {"id": 3, "status": "success", "response": {"trigger_id": 9}}},
            (9, 3, "success"),
        ),
        (202, {"job": {"id": 3, "status": "success", "response": [1, 2]}}, (None, 3, "success")),
        (200, None, (None, None, None)),
        (200, {"trigger_id": True, "future_id": "x"}, (None, None, None)),
    ],
)
def test_mutation_result_from_response(
    status: int, body: Any, expected: tuple[int | None, int | None, str | None]
) -> None:
    result = MutationResult.from_response(status, body)
    assert (result.trigger_id, result.job_id, result.status) == expected
    assert result.status_code == status
    assert result.body == body
    assert result.already_gone is False


@pytest.mark.parametrize(
    ("base_url", "label"),
    [
        ("https://app.mammoth.io/api/v2", "https://app.mammoth.io/api/v2"),
        ("https://app.mammoth.io/api/v2/", "https://app.mammoth.io/api/v2"),
        (
            "https://user:hunter2@example.com:8443/api/v2?token=abc#x",
            "https://example.com:8443/api/v2",
        ),
        ("http://127.0.0.1:9", "http://127.0.0.1:9"),
    ],
)
def test_endpoint_label_drops_credentials_and_query(base_url: str, label: str) -> None:
    assert endpoint_label(base_url) == label
