"""The Domo sandbox's own settings, beside the fault knobs every sandbox shares.

The shared ``SandboxConfig`` holds Mammoth's key and secret; Domo's sandbox
accepts a developer token instead, taken from ``DOMO_DEVELOPER_TOKEN`` when
it starts (``sandbox`` when unset), so a client and a server started from
the same shell agree. ``timestamps`` picks which of Domo's two documented
time forms the answers use, so a client can be tested against each.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_TOKEN", "DomoSandboxSettings", "TimestampForm"]

DEFAULT_TOKEN = "sandbox"
# ISO 8601 as the documentation's examples; epoch milliseconds as the OpenAPI
# file describes them, as a JSON number or, as it types them, a string.
TimestampForm = Literal["iso", "millis", "millis-string"]
_FORMS = ("iso", "millis", "millis-string")


@dataclass(frozen=True)
class DomoSandboxSettings:
    token: str = dataclasses.field(default=DEFAULT_TOKEN, repr=False)
    timestamps: TimestampForm = "iso"

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the sandbox's developer token must not be empty")
        if self.timestamps not in _FORMS:
            raise ValueError(f"timestamps must be one of {', '.join(_FORMS)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DomoSandboxSettings:
        env = os.environ if environ is None else environ
        return cls(env.get("DOMO_DEVELOPER_TOKEN") or DEFAULT_TOKEN)
