"""How the data-tools API's errors read: its settings, its bodies, its 404s.

The API answers errors as ``{"success": false, "error": <text>}``, but many of
its refusals are Django's own HTML pages (a 404 for an unknown job action, a
403 when the CSRF check fails, a 405 with an empty body). ``detail`` turns
either into one short line; an HTML page becomes its title.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from reconciler.http.api import Call, StandardWording, body_detail

__all__ = ["DatatoolsWording", "Target"]

_TITLE = re.compile(r"<title>(.*?)</title>|<h1>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Target:
    """What a ``Call`` is about: a template or a job, by id when one is named."""

    kind: str  # "template" or "export job"
    id: str | None = None


class DatatoolsWording(StandardWording):
    service = "the data-tools site"
    endpoint_setting = "DATATOOLS_BASE_URL (or --endpoint)"
    scope_noun = "data-tools templates and jobs"
    key_noun = "manifest key"

    def detail(self, response: httpx.Response) -> str:
        if "html" in response.headers.get("content-type", ""):
            found = _TITLE.search(response.text)
            if found:
                text = _TAG.sub("", found.group(1) or found.group(2) or "")
                return " ".join(html.unescape(text).split()) or response.reason_phrase
        return body_detail(response, ("error", "message"))

    def auth_failure(self, status: int, endpoint: str) -> str:
        return (
            f"The data-tools site at {endpoint} refused the request ({status}): its CSRF "
            "check failed, with a fresh token. Check that DATATOOLS_BASE_URL is the address "
            "the site serves itself under (Django compares the Referer with it; behind a "
            "proxy the site may need that address in CSRF_TRUSTED_ORIGINS)."
        )

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
        target = call.about if isinstance(call.about, Target) else None
        if target is not None and target.id is not None:
            return (
                f"Could not {self.subject(call)}: {target.kind} {target.id} not found (404). "
                "It may have been deleted since it was listed, or belong to another user."
            )
        return (
            f"Could not {self.subject(call)}: no data-tools API at {endpoint}/{call.path} "
            "(404). Check DATATOOLS_BASE_URL (the site's root) and DATATOOLS_PREFIX "
            "(where the site mounts the app, default /tools/)."
        )
