"""Checks of a base URL from a flag or an environment variable, the same for every API.

A URL a user typed is checked before any request, so a typo is named with
what to do rather than surfacing as a connection error; and it is only ever
echoed through ``shown_url``, which masks user info and cuts the query (a
pasted URL may carry a token in either).
"""

from __future__ import annotations

import re

import httpx

__all__ = ["base_url_problem", "shown_url"]


def base_url_problem(url: str, *, credentials: str) -> str | None:
    """Why ``url`` cannot be an API's base URL, else ``None``.

    ``credentials`` says where the credentials go instead of the URL's user
    info, e.g. "set MAILGUN_API_KEY". A provider checks its own rules (a path
    it adds itself) after this one.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "is not a valid URL"
    if parsed.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parsed.host:
        return "has no host"
    if parsed.userinfo:
        return f"must not carry credentials: {credentials} instead"
    if parsed.query or parsed.fragment:
        return "must not have a query string or fragment"
    return None


def shown_url(url: str) -> str:
    """The URL as it may be echoed: user info masked, query and fragment cut off."""
    without_query = re.split(r"[?#]", url, maxsplit=1)[0]
    return re.sub(r"//[^/@]*@", "//***@", without_query)
