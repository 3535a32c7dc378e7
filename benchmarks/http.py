"""Loopback HTTP: the aiohttp source + pipeline against openai-python's async client.

    python -m benchmarks.http            # 3,000-event response; 1, 10, 100 concurrent streams
    python -m benchmarks.http --quick    # 1,000 events, fewer streams

The embedded replay server (``rxresponses.server.ReplayServer``, in its own
process so client and server do not share one core) serves a realistic
response unpaced, in large writes. At each concurrency level C, C streams run
at once, for ``max(1, --streams // C)`` rounds, read by:

(a) ``responses(http_source(...))`` on one shared ``aiohttp.ClientSession``,
    subscribed with a per-item ``on_next`` (and, as (a'), consumed with
    ``async for item in rxresponses.iterate(...)``);
(b) openai-python: ``AsyncOpenAI().responses.create(stream=True)``, its typed
    events mapped to the same items;
(c) the floor, as found: aiohttp's chunks fed straight to the hand-written
    loop of ``benchmarks.floor``, each event mapped as soon as its blank line
    is found. It has none of the library's duties (routing by the JSON
    ``type``, any line ending, caps, errors as data, the operator chain): the
    peer of (a)'s first-item latency, measured in the same run.

It prints aggregate events/s for each (events of the recording x streams /
wall time) and their ratio, and, for (a) and (c), the time from a chunk's
arrival to its first item (median and p99, in wall time and in the thread's
CPU time; for (a) a pass-through operator stamps each chunk before handing it
on to the pipeline), and the ratio of their p99s. Every stream's items are
checked against the hand-written loop's.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from reactivex import Observable, abc
from rxresponses.operators import Done, Item

from ._util import header, machine, median, percentile, verdict
from .floor import FloorReader, run_floor
from .streamgen import build
from .throughput import same_items

_BODY = {"model": "gpt-5.1-codex-max", "input": "Benchmark.", "stream": True}


class _Clock:
    """Chunk-arrival stamps shared by a stamped source and its item observer.

    Each latency is taken twice: in wall time, and in this thread's CPU time,
    which leaves out the time the thread was not running (other processes,
    the hypervisor, interrupts) on a machine whose cores are shared.
    """

    __slots__ = ("arrived", "arrived_cpu", "cpu_latencies", "latencies", "sizes", "waiting")

    def __init__(self) -> None:
        self.arrived = 0.0
        self.arrived_cpu = 0.0
        self.waiting = False
        self.latencies: list[float] = []
        self.cpu_latencies: list[float] = []
        self.sizes: list[int] = []  # bytes of each chunk that gave an item

    def read(self, chunk: bytes, handle: Callable[[bytes], object]) -> None:
        """``handle(chunk)``, timed from the chunk's arrival to the first item it gives."""
        self.waiting = True
        self.arrived_cpu = time.thread_time()
        self.arrived = time.perf_counter()
        handle(chunk)
        if not self.waiting:
            self.sizes.append(len(chunk))
        self.waiting = False

    def item(self) -> None:
        if self.waiting:
            self.waiting = False
            self.latencies.append(time.perf_counter() - self.arrived)
            self.cpu_latencies.append(time.thread_time() - self.arrived_cpu)


def _stamped(source: Observable[bytes], clock: _Clock) -> Observable[bytes]:
    """``source`` unchanged, noting when each chunk arrives (before the pipeline sees it)."""

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        def on_next(chunk: bytes) -> None:
            clock.read(chunk, observer.on_next)

        return source.subscribe(
            on_next, observer.on_error, observer.on_completed, scheduler=scheduler
        )

    return Observable(subscribe)


async def _rxresponses_stream(base_url: str, session: Any, clock: _Clock) -> list[Item]:
    from rxresponses import responses
    from rxresponses.http import http_source

    items: list[Item] = []
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_next(item: Item) -> None:
        clock.item()
        items.append(item)

    def on_error(exc: Exception) -> None:
        finished.set_exception(exc)

    def on_completed() -> None:
        finished.set_result(None)

    source = http_source(_BODY, base_url=base_url, api_key="sk-bench", session=session)
    responses(_stamped(source, clock)).subscribe(on_next, on_error, on_completed)
    await finished
    return items


async def _floor_stream(base_url: str, session: Any, clock: _Clock) -> list[Item]:
    """The latency floor: aiohttp's chunks straight into the hand-written loop, mapped as found."""
    items: list[Item] = []

    def emit(item: Item) -> None:
        clock.item()
        items.append(item)

    reader = FloorReader(emit, as_found=True)
    headers = {"Accept": "text/event-stream", "Authorization": "Bearer sk-bench"}
    async with session.post(base_url + "/responses", json=_BODY, headers=headers) as response:
        response.raise_for_status()
        async for chunk in response.content.iter_any():
            clock.read(chunk, reader.feed)
            if reader.ended:
                break
    return items


async def _rxresponses_iterate(base_url: str, session: Any) -> list[Item]:
    from rxresponses import iterate
    from rxresponses.http import stream_responses

    stream = stream_responses(_BODY, base_url=base_url, api_key="sk-bench", session=session)
    return [item async for item in iterate(stream)]


async def _openai_stream(client: Any) -> list[Item]:
    from ._openai_map import map_events

    items: list[Item] = []
    stream = await client.responses.create(model=_BODY["model"], input=_BODY["input"], stream=True)
    await map_events(stream, items.append)
    await stream.close()
    return items


async def _level(
    one: Callable[[], Awaitable[list[Item]]], concurrency: int, rounds: int
) -> tuple[float, list[list[Item]]]:
    """Wall seconds for ``rounds`` rounds of ``concurrency`` streams at once, and their items."""
    results: list[list[Item]] = []
    start = time.perf_counter()
    for _ in range(rounds):
        results += await asyncio.gather(*(one() for _ in range(concurrency)))
    return time.perf_counter() - start, results


def _latency(label: str, clock: _Clock) -> None:
    """Chunk arrival -> first item: median and p99 in wall and CPU time, and the chunks' sizes."""
    lat = clock.latencies
    print(
        f"  {label} chunk arrival -> first item: median {median(lat) * 1e6:.1f} µs, "
        f"p99 {percentile(lat, 99) * 1e6:.1f} µs over {len(lat):,} chunks"
    )
    cpu = clock.cpu_latencies
    print(
        f"  {label} the same in this thread's CPU time: median {median(cpu) * 1e6:.1f} µs, "
        f"p99 {percentile(cpu, 99) * 1e6:.1f} µs"
    )
    sizes = [float(size) for size in clock.sizes]
    print(
        f"  {label} those chunks: median {median(sizes) / 1024:.1f} KiB, "
        f"p99 {percentile(sizes, 99) / 1024:.1f} KiB"
    )


async def _bench(
    base_url: str, events: int, expected: list[Item], levels: list[int], streams: int
) -> bool:
    import aiohttp
    from openai import AsyncOpenAI

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    client = AsyncOpenAI(api_key="sk-bench", base_url=base_url, max_retries=0)
    ok = True
    try:
        clock, floor_clock = _Clock(), _Clock()
        readers: dict[str, Callable[[], Awaitable[list[Item]]]] = {
            "(a) rxresponses, subscribe": lambda: _rxresponses_stream(base_url, session, clock),
            "(c) the floor, as found": lambda: _floor_stream(base_url, session, floor_clock),
            "(a') rxresponses, async for": lambda: _rxresponses_iterate(base_url, session),
            "(b) openai-python": lambda: _openai_stream(client),
        }
        for read in readers.values():  # warm-up: connections, imports, caches
            await read()
        for concurrency in levels:
            rounds = max(1, streams // concurrency)
            n = concurrency * rounds
            header(f"{concurrency} concurrent stream(s) x {rounds} round(s) = {n} streams")
            rates: dict[str, float] = {}
            for each in (clock, floor_clock):
                each.latencies.clear()
                each.cpu_latencies.clear()
                each.sizes.clear()
            for label, read in readers.items():
                seconds, results = await _level(read, concurrency, rounds)
                good = all(same_items(items, expected) for items in results)
                ok &= good
                rates[label] = events * n / seconds
                print(
                    f"  {label:<30} {rates[label]:12,.0f} events/s  "
                    f"({seconds:6.2f} s; items as expected: {good})"
                )
            a, b = rates["(a) rxresponses, subscribe"], rates["(b) openai-python"]
            line = f"  (a)/(b) aggregate events/s = {a / b:.1f}"
            if concurrency >= 100:
                line += f"   [target >= 10: {verdict(a / b >= 10)}]"
            print(line)
            _latency("(a)", clock)
            _latency("(c)", floor_clock)
            a99, c99 = percentile(clock.latencies, 99), percentile(floor_clock.latencies, 99)
            print(
                f"  (a)/(c) chunk arrival -> first item, p99: {a99 / c99:.2f}"
                f"   [target <= 1.5: {verdict(a99 / c99 <= 1.5)}]"
            )
    finally:
        await session.close()
        await client.close()
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3_000, help="events in the response")
    parser.add_argument(
        "--streams", type=int, default=30, help="streams per level (at least one round)"
    )
    parser.add_argument("--levels", default="1,10,100", help="concurrency levels, comma-separated")
    parser.add_argument("--quick", action="store_true", help="1,000 events, 20 streams per level")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.streams = min(args.events, 1_000), min(args.streams, 20)
    levels = [int(level) for level in args.levels.split(",")]

    print(f"benchmarks.http: {machine()}")
    data = build(args.events)
    expected: list[Item] = []
    run_floor([data], expected.append)
    assert isinstance(expected[-1], Done)
    print(
        f"response: {args.events:,} events, {len(data):,} bytes, {len(expected):,} items; "
        "served unpaced from a separate process on 127.0.0.1"
    )
    with tempfile.TemporaryDirectory(prefix="rxresponses-bench-") as tmp:
        path = os.path.join(tmp, "response.sse")
        with open(path, "wb") as file:
            file.write(data)
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._server", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().decode().strip()
            if not base_url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"the replay server did not start: {base_url!r}")
            ok = asyncio.run(_bench(base_url, args.events, expected, levels, args.streams))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)
    return 0 if ok else 1  # only wrong items fail the run; missed targets are reported


if __name__ == "__main__":
    sys.exit(main())
