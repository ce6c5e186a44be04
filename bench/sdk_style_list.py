"""The comparison row of ``bench_plan_process.py``: a listing script a user could write.

What ten minutes with an SDK gives: plain ``httpx.AsyncClient``, one task
per dataview under ``asyncio.gather``, a semaphore keeping ``concurrency``
requests in flight, pages of 50 (the official SDK's default), every answer
parsed as JSON. It lists and plans nothing, so exportctl's whole ``plan``
should beat it at the same concurrency.

Run as a process of its own: ``python sdk_style_list.py BASE_URL ADDRESSES.json N``,
where the file holds ``[[workspace, project, dataset, dataview], ...]``.
Prints how many exports it listed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

PAGE_SIZE = 50


async def list_dataview(
    client: httpx.AsyncClient, gate: asyncio.Semaphore, address: list[int]
) -> list[object]:
    workspace, project, dataset, dataview = address
    path = (
        f"/workspaces/{workspace}/projects/{project}/datasets/{dataset}"
        f"/dataviews/{dataview}/pipeline/exports"
    )
    exports: list[object] = []
    while True:
        async with gate:
            response = await client.get(path, params={"limit": PAGE_SIZE, "offset": len(exports)})
        response.raise_for_status()
        page = response.json()["exports"]
        exports.extend(page)
        if len(page) < PAGE_SIZE:
            return exports


async def main(base_url: str, addresses: list[list[int]], concurrency: int) -> int:
    headers = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}
    limits = httpx.Limits(max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        pages = await asyncio.gather(*(list_dataview(client, gate, a) for a in addresses))
    return sum(len(page) for page in pages)


if __name__ == "__main__":
    url, addresses_file, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3])
    addresses = json.loads(Path(addresses_file).read_text(encoding="utf-8"))
    listed = asyncio.run(main(url, addresses, parallel))
    print(f"listed {listed} exports")
