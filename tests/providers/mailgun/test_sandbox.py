"""What the Mailgun sandbox answers on the wire: auth, bodies, files, admin routes, faults."""

from __future__ import annotations

import email.utils
import urllib.parse
from pathlib import Path

import httpx
import pytest

from reconciler.providers.mailgun.sandbox.app import create_app, sandbox_service
from reconciler.providers.mailgun.sandbox.lists import DEFAULT_LISTS, render_csv
from reconciler.providers.mailgun.sandbox.signing import sign_link
from reconciler.providers.mailgun.wire import created_at
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.mailgun.conftest import MailgunFactory
from tests.providers.mailgun.support import HOUR, RunningMailgun, get


def _create(http: httpx.Client, url: str = "/v3/domains") -> dict[str, str]:
    answer = http.post("/v3/exports", data={"url": url})
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def _link(mailgun: RunningMailgun, http: httpx.Client) -> httpx.URL:
    export = _create(http)
    mailgun.clock.advance(61)
    answer = http.get(f"/v3/exports/{export['id']}/download_url")
    assert answer.status_code == 302
    assert answer.content == b""
    return httpx.URL(answer.headers["location"])


@pytest.mark.parametrize("path", ["/v3/exports", "/_sandbox/mailgun/clock"])
@pytest.mark.parametrize(
    "auth", [None, ("api", "wrong"), ("key", "sandbox")], ids=["none", "bad-key", "bad-user"]
)
def test_api_and_admin_routes_want_basic_auth_as_api(
    mailgun: RunningMailgun, path: str, auth: tuple[str, str] | None
) -> None:
    with mailgun.http(auth) as http:
        answer = http.get(path)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Invalid private key"}
    assert answer.headers["www-authenticate"] == 'Basic realm="MG API"'


def test_the_key_comes_from_mailgun_api_key_else_sandbox(tmp_path: Path) -> None:
    for environ, key in (({}, "sandbox"), ({"MAILGUN_API_KEY": "k-123"}, "k-123")):
        app = create_app(tmp_path / f"{key}.db", environ=environ)
        try:
            with serve_app_in_thread(app) as root:
                ok = get(f"{root}/v3/exports", auth=("api", key))
                refused = get(f"{root}/v3/exports", auth=("api", key + "x"))
        finally:
            sandbox_service(app).store.close()
        assert (ok.status_code, refused.status_code) == (200, 401)


def test_a_create_answers_as_the_docs_show(mailgun: RunningMailgun) -> None:
    mailgun.clock.advance(HOUR)
    with mailgun.http() as http:
        body = _create(http, "/v3/domains")
    assert set(body) == {"id", "status", "url"}
    assert (body["status"], body["url"]) == ("requested", "domains")
    assert len(body["id"]) == 24
    stamped = created_at(body["id"])
    assert stamped is not None and stamped == pytest.approx(mailgun.clock.now(), abs=2)


def test_the_url_field_may_come_in_the_query_string(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        answer = http.post("/v3/exports", params={"url": "/v3/domains"})
    assert answer.status_code == 200
    assert answer.json()["url"] == "domains"


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({}, "Missing mandatory parameter: url"),
        ({"data": {"url": "/v3/"}}, "names no API list"),
        ({"files": {"url": (None, "/v3/domains")}}, "x-www-form-urlencoded"),
    ],
    ids=["missing", "empty", "multipart"],
)
def test_a_bad_create_is_a_400_with_a_message(
    mailgun: RunningMailgun, request_args: dict[str, object], message: str
) -> None:
    with mailgun.http() as http:
        answer = http.post("/v3/exports", **request_args)  # type: ignore[arg-type]
    assert answer.status_code == 400
    assert message in answer.json()["message"]


def test_paths_match_exactly_as_mailguns_router_does(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        assert http.get("/v3/exports/").status_code == 404
        assert http.get("/v3/exports/nope").json() == {"message": "export not found"}
        assert http.delete("/v3/exports").status_code == 405


def test_a_file_link_is_signed_and_temporary(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        link = _link(mailgun, http)
    assert link.path.startswith("/_s3/mailgun-exports/") and link.path.endswith(".csv")
    assert {"X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"} <= set(link.params)
    answer = get(link)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content == render_csv(DEFAULT_LISTS["domains"])


def test_a_file_refuses_a_second_auth_a_bad_signature_and_no_signature(
    mailgun: RunningMailgun,
) -> None:
    with mailgun.http() as http:
        link = _link(mailgun, http)
    with_auth = get(link, auth=("api", "sandbox"))
    forged = get(link.copy_set_param("X-Amz-Signature", "0" * 64))
    bare = get(link.copy_with(query=None))
    assert (with_auth.status_code, forged.status_code, bare.status_code) == (400, 403, 403)
    assert "<Code>InvalidArgument</Code>" in with_auth.text
    assert "<Code>SignatureDoesNotMatch</Code>" in forged.text
    assert "<Code>AccessDenied</Code>" in bare.text


def test_a_file_is_gone_with_its_export(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        link = _link(mailgun, http)
    # Re-sign as if just issued: the link itself is fine, the object is gone.
    mailgun.clock.advance(24 * HOUR)
    service = sandbox_service(mailgun.app)
    name = link.path.rsplit("/", 1)[1]
    query = urllib.parse.urlencode(sign_link(service.store.signing_key, name, mailgun.clock.now()))
    answer = get(link.copy_with(query=query.encode()))
    assert answer.status_code == 404
    assert "<Code>NoSuchKey</Code>" in answer.text


def test_the_date_header_is_the_sandbox_clocks(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        moved = http.post("/_sandbox/mailgun/clock", json={"advance_s": 90000})
        answer = http.get("/v3/exports")
    assert moved.status_code == 200 and moved.json()["offset_s"] == 90000
    assert answer.headers.get_list("date") == [answer.headers["date"]]  # exactly one
    served = email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert served == pytest.approx(mailgun.clock.now(), abs=2)


@pytest.mark.parametrize(
    "body", [{"advance_s": -1}, {"advance_s": "1h"}, {}, [], {"advance_s": True}]
)
def test_the_clock_only_moves_forward_by_a_number(mailgun: RunningMailgun, body: object) -> None:
    with mailgun.http() as http:
        answer = http.post("/_sandbox/mailgun/clock", json=body)
        state = http.get("/_sandbox/mailgun/clock").json()
    assert answer.status_code == 400
    assert "advance_s" in answer.json()["message"]
    assert state["offset_s"] == 0


def test_fault_knobs_change_at_runtime(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        changed = http.put(
            "/_sandbox/mailgun/faults", json={"throttle_rate": 1, "retry_after_s": 7}
        )
        throttled = http.get("/v3/exports")
        admin = http.get("/_sandbox/mailgun/faults")  # faults spare the admin routes
        unknown = http.put("/_sandbox/mailgun/faults", json={"nonsense": 1})
    assert changed.json()["throttle_rate"] == 1
    assert throttled.status_code == 429
    assert "retry-after" not in throttled.headers  # Mailgun's header, not the standard one
    reset = float(throttled.headers["x-ratelimit-reset"])
    assert reset == pytest.approx(mailgun.clock.now() + 7, abs=1)
    assert admin.status_code == 200
    assert unknown.status_code == 400 and "nonsense" in unknown.json()["message"]


def test_rows_added_to_a_list_appear_in_its_next_export(mailgun: RunningMailgun) -> None:
    rows = [{"address": "a@example.net", "tags": ["x", "y"], "count": 3, "note": None}]
    with mailgun.http() as http:
        added = http.post(
            "/_sandbox/mailgun/lists", json={"url": "/v3/ex.com/bounces", "rows": rows}
        )
        bad = http.post("/_sandbox/mailgun/lists", json={"url": "ex.com/bounces", "rows": [1]})
        export = _create(http, "ex.com/bounces")
        mailgun.clock.advance(61)
        link = http.get(f"/v3/exports/{export['id']}/download_url").headers["location"]
    assert added.status_code == 201 and added.json() == {"url": "ex.com/bounces", "rows": 1}
    assert bad.status_code == 400
    assert get(link).text == 'address,tags,count,note\r\na@example.net,"[""x"",""y""]",3,\r\n'


def test_an_unknown_list_exports_an_empty_file(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        export = _create(http, "/v3/nothing.example.com/complaints")
        mailgun.clock.advance(61)
        link = http.get(f"/v3/exports/{export['id']}/download_url").headers["location"]
    answer = get(link)
    assert (answer.status_code, answer.content) == (200, b"")


def test_a_stuck_export_blocks_its_url_until_it_expires(mailgun_factory: MailgunFactory) -> None:
    mailgun = mailgun_factory(job_failure_rate=1.0)
    with mailgun.http() as http:
        stuck = _create(http)
        mailgun.clock.advance(23 * HOUR)
        still = http.get(f"/v3/exports/{stuck['id']}").json()["status"]
        refused = http.post("/v3/exports", data={"url": "domains"}).status_code
        mailgun.clock.advance(2 * HOUR)
        items = http.get("/v3/exports").json()["items"]
        mailgun.set_faults(job_failure_rate=0.0)
        again = http.post("/v3/exports", data={"url": "domains"}).status_code
    assert (still, refused, items, again) == ("processing", 400, [], 200)


def test_exports_and_links_survive_a_restart(
    mailgun_factory: MailgunFactory, tmp_path: Path
) -> None:
    db = tmp_path / "kept.db"
    first = mailgun_factory(db_path=db)
    with first.http() as http:
        link = _link(first, http)
    second = mailgun_factory(db_path=db)
    second.clock.advance(first.clock.offset_s)
    answer = get(link)
    with second.http() as http:
        items = http.get("/v3/exports").json()["items"]
    assert answer.status_code == 200
    assert answer.content == render_csv(DEFAULT_LISTS["domains"])  # default rows not doubled
    assert [item["status"] for item in items] == ["complete"]
