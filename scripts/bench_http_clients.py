"""CPU per request of httpx (sync) vs aiohttp vs our PoliteClient, against a local server.

The server runs in a separate process; only this process's CPU is counted.
Run: python scripts/bench_http_clients.py [--requests 2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _bench_server import start_server

from connectors.http import PoliteClient
from monitor.config import HttpSettings


def measure(name: str, n: int, run: Callable[[], object]) -> None:
    """Run once, print wall rate and CPU per request."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"{name:34s} {n / wall:8.0f} req/s   {cpu / n * 1000:6.3f} ms CPU/req")


def main() -> None:
    """Benchmark each client, sequentially and with a pool of concurrent requests."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    proc, port = start_server()
    url = f"http://127.0.0.1:{port}/small"
    n, c = args.requests, args.concurrency
    try:
        with httpx.Client() as hc:
            hc.get(url)
            measure("httpx sync, sequential", n, lambda: [hc.get(url).content for _ in range(n)])
            with ThreadPoolExecutor(c) as pool:
                measure(
                    f"httpx sync, {c} threads",
                    n,
                    lambda: list(pool.map(lambda _: hc.get(url).content, range(n))),
                )
        settings = HttpSettings(
            allow_private=["127.0.0.1"], per_host_delay_s=0, per_host_concurrency=64, pool_size=c
        )
        with PoliteClient(settings) as pc:
            pc.get(url)
            measure(
                "PoliteClient (httpcore pool), sequential",
                n,
                lambda: [pc.get(url) for _ in range(n)],
            )
            with ThreadPoolExecutor(c) as pool:
                measure(
                    f"PoliteClient (httpcore pool), {c} threads",
                    n,
                    lambda: list(pool.map(lambda _: pc.get(url), range(n))),
                )
        try:
            import aiohttp  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            print("aiohttp not installed: skipped")
            return

        async def aio(concurrency: int) -> None:
            async with aiohttp.ClientSession() as s:
                async with s.get(url) as r:
                    await r.read()
                sem = asyncio.Semaphore(concurrency)

                async def one() -> None:
                    async with sem, s.get(url) as r:
                        await r.read()

                cpu0, wall0 = time.process_time(), time.perf_counter()
                if concurrency == 1:
                    for _ in range(n):
                        await one()
                else:
                    await asyncio.gather(*(one() for _ in range(n)))
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                label = "sequential" if concurrency == 1 else f"{concurrency} tasks"
                print(
                    f"{'aiohttp, ' + label:34s} {n / wall:8.0f} req/s   "
                    f"{cpu / n * 1000:6.3f} ms CPU/req"
                )

        asyncio.run(aio(1))
        asyncio.run(aio(c))
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
