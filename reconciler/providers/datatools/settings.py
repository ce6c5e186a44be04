"""Where the data-tools API is and who logs in: ``DATATOOLS_*``, checked once.

- ``DATATOOLS_BASE_URL`` (or ``--endpoint``): the root of the Django site,
  where ``/accounts/login/`` lives, e.g. ``https://hydroml.example.com``.
  There is no default: every deployment is self-hosted.
- ``DATATOOLS_PREFIX`` (default ``/tools/``): where the site mounts the
  data-tools app. The project's own docs say ``/data-tools/``, its code
  ``/tools/``; a deployment may choose yet another.
- ``DATATOOLS_USERNAME`` and ``DATATOOLS_PASSWORD``: a Django user. There
  are no API tokens; the client logs in like a browser.

Credentials never come from flags, and no message here shows the password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from reconciler.errors import ConfigError
from reconciler.http.transport import endpoint_label
from reconciler.http.urls import base_url_problem

__all__ = ["DEFAULT_PREFIX", "DatatoolsSettings", "settings_from_env"]

DEFAULT_PREFIX = "/tools/"
_CREDENTIALS = ("DATATOOLS_USERNAME", "DATATOOLS_PASSWORD")
_EXAMPLE = "https://hydroml.example.com"


@dataclass(frozen=True)
class DatatoolsSettings:
    """A checked configuration; ``password`` is left out of ``repr``."""

    base_url: str  # the site root, without a trailing slash
    prefix: str  # the app's mount point, e.g. "tools/": no leading, one trailing slash
    username: str
    password: str = field(repr=False)

    @property
    def api_path(self) -> str:
        """The export API's path below ``base_url``, e.g. ``tools/api/v1/``."""
        return f"{self.prefix}api/v1/"


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, endpoint: str | None = None
) -> DatatoolsSettings:
    """The settings from the environment (``--endpoint`` wins over ``DATATOOLS_BASE_URL``)."""
    env = os.environ if environ is None else environ
    missing = [name for name in ("DATATOOLS_BASE_URL", *_CREDENTIALS) if not env.get(name)]
    if endpoint:
        missing = [name for name in missing if name != "DATATOOLS_BASE_URL"]
    if missing:
        names = " and ".join(missing) if len(missing) < 3 else ", ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(
            f"{names} {verb} not set. The data-tools provider logs in as a user of the "
            f"site: set DATATOOLS_BASE_URL to the site's root (like {_EXAMPLE}) and "
            "DATATOOLS_USERNAME / DATATOOLS_PASSWORD to that user's login (credentials "
            "are never taken from flags)."
        )
    prefix = _prefix(env.get("DATATOOLS_PREFIX") or DEFAULT_PREFIX)
    base_url = _base_url(endpoint or env["DATATOOLS_BASE_URL"], prefix)
    return DatatoolsSettings(base_url, prefix, env["DATATOOLS_USERNAME"], env["DATATOOLS_PASSWORD"])


def _prefix(text: str) -> str:
    parts = [part for part in text.strip().split("/") if part]
    if not parts or any(part in (".", "..") or "?" in part or "#" in part for part in parts):
        raise ConfigError(
            f"DATATOOLS_PREFIX {text!r} is not a path like {DEFAULT_PREFIX}: it names "
            "where the site mounts the data-tools app."
        )
    return "/".join(parts) + "/"


def _base_url(url: str, prefix: str) -> str:
    text = url.strip()
    problem = _url_problem(text, prefix)
    if problem:
        raise ConfigError(
            f"DATATOOLS_BASE_URL (or --endpoint) {problem}. Expected the site's root, "
            f"like {_EXAMPLE}."
        )
    return text.rstrip("/")


def _url_problem(url: str, prefix: str) -> str | None:
    problem = base_url_problem(url, credentials="set DATATOOLS_USERNAME and DATATOOLS_PASSWORD")
    if problem is not None:
        return problem
    if f"/{httpx.URL(url).path.strip('/')}/".endswith(f"/{prefix}"):
        shown = endpoint_label(url)
        return (
            f"{shown} ends in the app's prefix /{prefix}: give the site's root; the "
            "prefix is added (DATATOOLS_PREFIX)"
        )
    return None
