"""Build a ``DomoClient`` from the environment, or say exactly which setting is wrong.

Settings, never flags (credentials must not land in shell history or CI logs):

- ``DOMO_BASE_URL``: the instance root, e.g. ``https://acme.domo.com``;
  otherwise ``DOMO_INSTANCE`` (``acme``) gives ``https://acme.domo.com``.
- ``DOMO_DEVELOPER_TOKEN``: an access token from Domo's admin pages, sent as
  the ``X-DOMO-Developer-Token`` header (Domo's "Product API" flavour; the
  OpenAPI file's bearer scheme on ``api.domo.com`` is not what the
  documentation's requests use).

Messages name the variable and never its value; a base URL is shown without
user info or query.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import httpx

from reconciler.errors import ConfigError
from reconciler.http.retry import RetryPolicy
from reconciler.http.transport import endpoint_label
from reconciler.http.urls import base_url_problem
from reconciler.providers.domo.client import EXPORT_PATH, DomoClient

__all__ = ["BASE_URL_VARIABLE", "INSTANCE_VARIABLE", "TOKEN_VARIABLE", "base_url_from", "connect"]

BASE_URL_VARIABLE = "DOMO_BASE_URL"
INSTANCE_VARIABLE = "DOMO_INSTANCE"
TOKEN_VARIABLE = "DOMO_DEVELOPER_TOKEN"
_INSTANCE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
# What an HTTP header value can carry: visible ASCII (a token never has spaces).
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


def connect(
    environ: Mapping[str, str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    parallelism: int = 8,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
) -> DomoClient:
    """A client for the instance the environment names; use it with ``async with``."""
    env = os.environ if environ is None else environ
    base_url = base_url_from(env)
    return DomoClient(
        base_url,
        _token(env),
        transport=transport,
        parallelism=parallelism,
        timeout=timeout,
        retry=retry,
    )


def base_url_from(env: Mapping[str, str]) -> str:
    """The instance root from ``DOMO_BASE_URL``, else from ``DOMO_INSTANCE``."""
    url = (env.get(BASE_URL_VARIABLE) or "").strip()
    if url:
        problem = _url_problem(url)
        if problem:
            raise ConfigError(
                f"{BASE_URL_VARIABLE} ({_shown(url)}) {problem}. "
                "Expected the instance root, like https://acme.domo.com."
            )
        return url.rstrip("/")
    instance = (env.get(INSTANCE_VARIABLE) or "").strip()
    if not instance:
        raise ConfigError(
            f"Neither {BASE_URL_VARIABLE} nor {INSTANCE_VARIABLE} is set. Set "
            f"{INSTANCE_VARIABLE} to your instance's name (acme for https://acme.domo.com), "
            f"or {BASE_URL_VARIABLE} to its URL."
        )
    if not _INSTANCE.match(instance):
        raise ConfigError(
            f"{INSTANCE_VARIABLE} ({instance!r}) is not an instance name: give only the "
            "first part of the host (acme for https://acme.domo.com), or set "
            f"{BASE_URL_VARIABLE} to the full URL instead."
        )
    return f"https://{instance.lower()}.domo.com"


def _url_problem(url: str) -> str | None:
    problem = base_url_problem(url, credentials=f"put the token in {TOKEN_VARIABLE}")
    if problem is not None:
        return problem
    if "/api/" in httpx.URL(url).path + "/":
        return f"must not include the API path (/{EXPORT_PATH} is added to it)"
    return None


def _shown(url: str) -> str:
    """The URL as it may be echoed: no user info, query or fragment."""
    try:
        return endpoint_label(url)
    except httpx.InvalidURL:
        return "an unreadable URL"


def _token(env: Mapping[str, str]) -> str:
    token = (env.get(TOKEN_VARIABLE) or "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_VARIABLE} is not set. Create an access token in Domo (Admin > "
            "Authentication > Access tokens) and export it in that variable; credentials "
            "are never taken from flags."
        )
    if not _HEADER_SAFE.match(token):
        raise ConfigError(
            f"{TOKEN_VARIABLE} holds characters an HTTP header cannot carry (spaces, line "
            "breaks or non-ASCII): copy the token again, without quotes or extra text."
        )
    return token
