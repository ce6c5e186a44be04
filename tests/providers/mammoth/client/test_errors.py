"""Error answers and unreachable endpoints become clear errors that leak no secret."""

import http.server
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from reconciler.errors import ApiError, ApiUnreachableError, AuthError, NotFoundError
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.app import sandbox_service
from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
from reconciler.providers.mammoth.sandbox.part import sandbox_part
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.providers.mammoth.sandbox.store import Store
from reconciler.sandbox.combined import combined_app
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.conftest import SandboxFactory
from tests.http.hostile import served
from tests.providers.mammoth.client.support import (
    REF,
    SleepLog,
    assert_leaks_nothing,
    instant_policy,
    run,
    s3_body,
)
from tests.sandboxes import RunningSandbox

WRONG_SECRET = "wr0ng-s3cret-5f9c"
RIGHT_SECRET = "r1ght-s3cret-77aa"


def test_wrong_credentials(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(credentials=SandboxCredentials("key-1", RIGHT_SECRET))

    async def listing() -> None:
        async with MammothClient(sandbox.base_url, "key-1", WRONG_SECRET) as client:
            await client.list_exports(REF)

    with pytest.raises(AuthError) as caught:
        run(listing())
    assert caught.value.message == (
        f"The API rejected the credentials (401) at {sandbox.base_url}. Check "
        "MAMMOTH_API_KEY and MAMMOTH_API_SECRET, and that --endpoint / MAMMOTH_BASE_URL "
        "is the server they belong to."
    )
    assert (caught.value.status_code, caught.value.scope) == (401, "1/1/1/1")
    assert_leaks_nothing(caught.value, WRONG_SECRET, RIGHT_SECRET)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens here once the probe is closed


def test_unreachable_endpoint() -> None:
    port = closed_port()
    log = SleepLog()

    async def listing() -> None:
        url = f"http://127.0.0.1:{port}/api/v2"
        async with MammothClient(
            url, "key", WRONG_SECRET, retry=instant_policy(log, max_attempts=3)
        ) as client:
            await client.list_exports(REF)

    with pytest.raises(ApiUnreachableError) as caught:
        run(listing())
    assert caught.value.message == (
        f"Cannot reach the Mammoth API at http://127.0.0.1:{port}/api/v2 to list the exports "
        f"of dataview 1/1/1/1 (ConnectError: connection refused by 127.0.0.1:{port}; "
        "3 attempts). Check --endpoint or MAMMOTH_BASE_URL, and the network (DNS, proxy, "
        "firewall)."
    )
    assert log.delays == [1.0, 2.0]
    assert_leaks_nothing(caught.value, WRONG_SECRET)


def test_an_add_to_an_unreachable_endpoint_is_retried_because_it_never_left() -> None:
    log = SleepLog()

    async def add() -> None:
        url = f"http://127.0.0.1:{closed_port()}/api/v2"
        async with MammothClient(
            url, "k", "s", retry=instant_policy(log, max_attempts=2)
        ) as client:
            await client.add_export(REF, s3_body("a.csv"), key="a")

    with pytest.raises(
        ApiUnreachableError, match=r"to add an export to dataview 1/1/1/1 \(export key 'a'\)"
    ):
        run(add())
    assert log.delays == [1.0]


def test_unknown_dataview(sandbox: RunningSandbox) -> None:
    async def listing() -> None:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            await client.list_exports(DataviewRef(1, 1, 123, 456))

    with pytest.raises(NotFoundError) as caught:
        run(listing())
    assert caught.value.message == (
        f"dataview 1/1/123/456 not found (404) at {sandbox.base_url}: check its workspace_id, "
        "project_id, dataset_id and dataview_id in the manifest."
    )


def test_a_dataview_named_on_the_command_line_points_there(sandbox: RunningSandbox) -> None:
    async def listing() -> None:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            await client.list_exports(DataviewRef(1, 1, 123, 456), ids_from="command line")

    with pytest.raises(NotFoundError) as caught:
        run(listing())
    assert caught.value.message == (
        f"dataview 1/1/123/456 not found (404) at {sandbox.base_url}: check the ids given as "
        "--dataview 1/1/123/456 (workspace/project/dataset/dataview)."
    )


WRONG_ENDPOINT = (
    "Not found (404) at {url}: {why}, so the endpoint is likely wrong, not the ids. "
    "Is --endpoint / MAMMOTH_BASE_URL the API root, like https://app.mammoth.io/api/v2?"
)


@pytest.mark.parametrize("path", ["", "/", "/api/v1", "/api"])
def test_an_endpoint_without_the_api_path_is_blamed_not_the_ids(
    sandbox: RunningSandbox, path: str
) -> None:
    """The sandbox answers its unknown routes 404 "Not Found", as any web framework does."""
    sandbox.store.ensure_dataviews([REF])  # the ids are right: only the endpoint is wrong

    async def listing() -> None:
        async with MammothClient(sandbox.root_url + path, "sandbox", "sandbox") as client:
            await client.list_exports(REF)

    with pytest.raises(NotFoundError) as caught:
        run(listing())
    url = sandbox.root_url + path.rstrip("/")
    why = "its path does not end in /api/v2"
    assert caught.value.message == WRONG_ENDPOINT.format(url=url, why=why)


@contextmanager
def web_server(root: Path) -> Iterator[str]:
    """A plain static-file web server on loopback: a URL that is not a Mammoth API."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=root))
    with served(server) as base_url:
        yield base_url


def test_a_server_that_is_not_the_api_is_blamed_not_the_ids(tmp_path: Path) -> None:
    async def listing(url: str) -> None:
        async with MammothClient(url, "key", WRONG_SECRET) as client:
            await client.list_exports(REF)

    with web_server(tmp_path) as root, pytest.raises(NotFoundError) as caught:
        run(listing(root + "/api/v2"))
    why = "the answer is not a Mammoth API error"
    assert caught.value.message == WRONG_ENDPOINT.format(url=root + "/api/v2", why=why)
    assert caught.value.status_code == 404
    assert_leaks_nothing(caught.value, WRONG_SECRET)


@contextmanager
def behind_sandbox_serve(db_path: Path) -> Iterator[tuple[str, Store]]:
    """Mammoth's sandbox behind the router of ``exportctl sandbox serve``, whose 404 for a
    path no API owns has the API's error shape; yields the root URL and the store."""
    part = sandbox_part(db_path, SandboxConfig(), None)
    try:
        with serve_app_in_thread(combined_app([part])) as root:
            yield root, sandbox_service(part.app).store
    finally:
        part.close()


async def list_exports_at(url: str) -> None:
    async with MammothClient(url, "sandbox", "sandbox") as client:
        await client.list_exports(REF)


def test_an_endpoint_without_the_api_path_is_blamed_even_in_the_apis_error_shape(
    tmp_path: Path,
) -> None:
    with behind_sandbox_serve(tmp_path / "sandbox.db") as (root, store):
        store.ensure_dataviews([REF])  # the ids are right: only the endpoint is wrong
        with pytest.raises(NotFoundError) as caught:
            run(list_exports_at(root))
    why = "its path does not end in /api/v2"
    said = "no sandbox API here; they are under /_files/mammoth, /_sandbox, /api/v2"
    assert caught.value.message == (
        WRONG_ENDPOINT.format(url=root, why=why) + f" The server said: {said}"
    )


def test_behind_sandbox_serve_an_unknown_dataview_still_blames_the_ids(tmp_path: Path) -> None:
    with (
        behind_sandbox_serve(tmp_path / "sandbox.db") as (root, _),
        pytest.raises(NotFoundError) as caught,
    ):
        run(list_exports_at(root + "/api/v2"))
    assert caught.value.message == (
        f"dataview {REF} not found (404) at {root}/api/v2: check its workspace_id, "
        "project_id, dataset_id and dataview_id in the manifest."
    )


def test_unknown_export(sandbox: RunningSandbox) -> None:
    sandbox.store.ensure_dataviews([REF])

    async def delete() -> None:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            await client.delete_export(REF, 99, key="gone")

    with pytest.raises(NotFoundError) as caught:
        run(delete())
    assert caught.value.message == (
        "export 99 (export key 'gone') of dataview 1/1/1/1 not found (404): it may have been "
        "deleted since it was listed. Run plan again."
    )


def test_a_refused_change_carries_the_servers_detail(sandbox: RunningSandbox) -> None:
    add_exports(sandbox.store, REF, [s3_body("taken.csv")])

    async def add() -> None:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            await client.add_export(REF, s3_body("taken.csv"), key="dup")

    with pytest.raises(ApiError) as caught:
        run(add())
    error = caught.value
    assert type(error) is ApiError
    assert error.message == (
        f"Could not add an export to dataview 1/1/1/1 (export key 'dup'): the API answered "
        f"400: {error.detail}"
    )
    assert error.detail is not None and "taken.csv" in error.detail
    assert (error.status_code, error.method, error.key) == (400, "POST", "dup")


def test_unknown_patch_path_is_refused_before_sending() -> None:
    async def patch() -> None:
        async with MammothClient("http://127.0.0.1:9/api/v2", "k", "s") as client:
            await client.patch_export(REF, 1, "pause")

    with pytest.raises(ValueError, match="unknown patch path 'pause'"):
        run(patch())
