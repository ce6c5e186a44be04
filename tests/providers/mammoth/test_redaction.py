"""The secrets a manifest gives are scrubbed from what servers say: the values watched."""

from __future__ import annotations

from reconciler import redaction
from reconciler.errors import ApiError
from reconciler.model import DesiredState
from reconciler.providers.mammoth.kind import dataview_spec
from tests.apply.helpers import REF, spec


def test_every_secret_value_of_the_watched_manifest_is_scrubbed_from_error_text() -> None:
    sftp = spec(
        "out",
        "sftp",
        {"host": "h.example.com", "username": "etl", "password": "pw-Hunter2", "path": "/x"},
    )
    login = spec(
        "login",
        "sftp",
        {"host": "h.example.com", "username": "alice-login", "password": "pw2", "path": "/y"},
        sensitive=("target_properties.username",),
    )
    redaction.watch(DesiredState((dataview_spec(REF, (sftp, login)),), digest="d"))
    error = ApiError(
        "the API answered 400: bad login alice-login / pw-Hunter2 for etl",
        detail="pw-Hunter2",
    )
    assert error.message == "the API answered 400: bad login *** / *** for etl"
    assert error.detail == "***"
    # Too short to scrub without wrecking every message: documented.
    assert redaction.scrub("pw2") == "pw2"
