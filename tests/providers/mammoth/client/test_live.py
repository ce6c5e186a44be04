"""fetch_live: many dataviews at once, within --parallelism, errors naming dataviews."""

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reconciler.errors import ApiError, AuthError, ConfigError, NotFoundError
from reconciler.live import fetch_live
from reconciler.model import LiveScope, Scope
from reconciler.providers.base import IdsFrom, Providers
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.connect import open_client
from reconciler.providers.mammoth.model import DataviewRef, present_exports
from reconciler.providers.mammoth.provider import MammothProvider
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.providers.mammoth.sandbox.store import Store
from tests.conftest import SandboxFactory
from tests.providers.mammoth.client.support import REF, RecordingTransport, run, s3_body
from tests.sandboxes import RunningSandbox

REFS = [DataviewRef(1, 1, 10, v) for v in range(12, 0, -1)]  # deliberately not sorted


def fetch_live_sync(
    open_client: Callable[[], MammothClient],
    refs: Sequence[DataviewRef],
    *,
    ids_from: IdsFrom = "manifest",
) -> dict[Scope, LiveScope]:
    """``fetch_live`` through the Mammoth provider, opened and closed around it."""

    async def listed() -> dict[Scope, LiveScope]:
        async with MammothProvider(open_client()) as provider:
            scopes = [ref.scope for ref in refs]
            return await fetch_live(Providers({"mammoth": provider}), scopes, ids_from=ids_from)

    return run(listed())


@pytest.mark.parametrize("parallelism", [1, 3, 8])
def test_parallelism_bounds_requests_in_flight(
    sandbox_factory: SandboxFactory, parallelism: int
) -> None:
    sandbox = sandbox_factory(latency_ms=30)
    sandbox.store.ensure_dataviews(REFS)
    transport = RecordingTransport()

    async def fetch() -> dict[Scope, LiveScope]:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport, parallelism=parallelism
        ) as client:
            providers = Providers({"mammoth": MammothProvider(client)})
            return await fetch_live(providers, [ref.scope for ref in REFS])

    live = run(fetch())
    assert list(live) == [ref.scope for ref in REFS]
    assert len(transport.requests) == len(REFS)
    assert transport.peak == parallelism  # reached, never exceeded


def test_the_next_request_goes_out_before_an_answer_is_worked_on(
    sandbox_factory: SandboxFactory,
) -> None:
    """Planning a dataview while the next listing waits would add its CPU to the latency."""
    sandbox = sandbox_factory(latency_ms=30)
    refs = REFS[:3]
    sandbox.store.ensure_dataviews(refs)
    transport = RecordingTransport()
    sent_when_listed: list[int] = []

    async def fetch() -> None:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport, parallelism=1
        ) as client:
            provider = MammothProvider(client)
            await fetch_live(
                Providers({"mammoth": provider}),
                [ref.scope for ref in refs],
                lambda _: sent_when_listed.append(transport.sent),
            )

    run(fetch())
    assert sent_when_listed == [2, 3, 3]


def test_fetch_live_keeps_order_and_builds_live_dataviews(sandbox: RunningSandbox) -> None:
    first, second = DataviewRef(1, 1, 2, 9), DataviewRef(1, 1, 2, 3)
    ids = add_exports(sandbox.store, first, [s3_body("a.csv", key="a"), s3_body("b.csv")])
    sandbox.store.ensure_dataviews([second])

    def client() -> MammothClient:
        return MammothClient(sandbox.base_url, "sandbox", "sandbox")

    live = fetch_live_sync(client, [first, second, first])
    assert list(live) == [first.scope, second.scope]
    assert [e.id for e in present_exports(live[first.scope])] == ids
    assert present_exports(live[first.scope])[0].additional_properties["exportctl"]["key"] == "a"
    assert live[second.scope].resources == ()


def test_one_missing_dataview_is_named(sandbox: RunningSandbox) -> None:
    sandbox.store.ensure_dataviews([REF])
    missing = DataviewRef(1, 1, 1, 404)

    def client() -> MammothClient:
        return MammothClient(sandbox.base_url, "sandbox", "sandbox")

    with pytest.raises(NotFoundError, match=r"^dataview 1/1/1/404 not found \(404\)"):
        fetch_live_sync(client, [REF, missing])


def test_every_missing_dataview_is_named_at_once(sandbox: RunningSandbox) -> None:
    def client() -> MammothClient:
        return MammothClient(sandbox.base_url, "sandbox", "sandbox")

    with pytest.raises(ApiError) as caught:
        fetch_live_sync(client, [DataviewRef(1, 1, 1, 7), DataviewRef(1, 1, 1, 8)])
    hint = "check its workspace_id, project_id, dataset_id and dataview_id in the manifest."
    assert caught.value.message == (
        f"dataview 1/1/1/7 not found (404) at {sandbox.base_url}: {hint}\n"
        f"dataview 1/1/1/8 not found (404) at {sandbox.base_url}: {hint}\n"
        "2 dataviews could not be listed."
    )


def test_a_wrong_endpoint_is_reported_once_not_once_per_dataview(
    sandbox: RunningSandbox,
) -> None:
    sandbox.store.ensure_dataviews(REFS)

    def client() -> MammothClient:
        return MammothClient(sandbox.root_url, "sandbox", "sandbox")  # no /api/v2

    with pytest.raises(NotFoundError) as caught:
        fetch_live_sync(client, REFS)
    assert caught.value.message == (
        f"Not found (404) at {sandbox.root_url}: its path does not end in /api/v2, so the "
        "endpoint is likely wrong, not the ids. Is --endpoint / MAMMOTH_BASE_URL the API "
        "root, like https://app.mammoth.io/api/v2?"
    )


def test_dataviews_named_on_the_command_line_are_pointed_at_there(
    sandbox: RunningSandbox,
) -> None:
    def client() -> MammothClient:
        return MammothClient(sandbox.base_url, "sandbox", "sandbox")

    with pytest.raises(ApiError) as caught:
        fetch_live_sync(
            client, [DataviewRef(1, 1, 1, 7), DataviewRef(1, 1, 1, 8)], ids_from="command line"
        )
    hint = "check the ids given as --dataview 1/1/1/{} (workspace/project/dataset/dataview)."
    assert caught.value.message == (
        f"dataview 1/1/1/7 not found (404) at {sandbox.base_url}: {hint.format(7)}\n"
        f"dataview 1/1/1/8 not found (404) at {sandbox.base_url}: {hint.format(8)}\n"
        "2 dataviews could not be listed."
    )


def test_a_credential_problem_is_reported_once(sandbox: RunningSandbox) -> None:
    def client() -> MammothClient:
        return MammothClient(sandbox.base_url, "sandbox", "not-the-secret")

    with pytest.raises(AuthError) as caught:
        fetch_live_sync(client, REFS)
    assert caught.value.message.count("rejected the credentials") == 1


def test_the_in_process_sandbox_creates_its_database_and_dataviews(tmp_path: Path) -> None:
    db = tmp_path / "state" / "nested" / "sandbox.db"
    env = {"MAMMOTH_API_KEY": "mine", "MAMMOTH_API_SECRET": "also-mine"}

    def client() -> MammothClient:
        return open_client(
            endpoint=None,
            sandbox_db=str(db),
            parallelism=2,
            dataviews=[REF],
            sandbox_connections=["warehouse"],
            environ=env,
        )

    async def add_and_list() -> list[int]:
        async with client() as sandboxed:
            added = await sandboxed.add_export(REF, s3_body("a.csv"))
            # The embedded sandbox answers as Mammoth does: 202 with a job to wait for.
            assert added.status_code == 202 and added.job_id is not None
            while (await sandboxed.get_jobs([added.job_id]))[0]["status"] == "processing":
                await asyncio.sleep(0.01)
            return [len(await sandboxed.list_exports(REF))]

    assert run(add_and_list()) == [1]
    listed = present_exports(fetch_live_sync(client, [REF])[REF.scope])
    assert listed[0].target_properties["file"] == "a.csv"
    store = Store(db)
    try:
        with store.read() as tx:
            assert tx.connection_ids() == ["warehouse"]
    finally:
        store.close()


def test_an_unusable_sandbox_database_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        open_client(endpoint=None, sandbox_db=str(tmp_path), parallelism=2, environ={})
    assert caught.value.message == (
        f"Cannot open the sandbox database {str(tmp_path)!r} (OperationalError: unable to "
        "open database file). Pass a writable file path to --sandbox."
    )
