"""Throughput on the same bytes: rxresponses vs openai-python vs a hand-written msgspec loop.

    python -m benchmarks.throughput            # 200k events, 5 runs each, + memory, cold start
    python -m benchmarks.throughput --quick    # 20k events: a smoke run in seconds

(a) rxresponses: ``responses(from_bytes(data, chunk))`` subscribed with a
    per-item ``on_next`` (what a user writes);
(b) openai-python: ``AsyncOpenAI().responses.create(stream=True)`` over an
    ``httpx.MockTransport`` serving the same chunks, its typed events mapped to
    the same items;
(c) the floor: ``benchmarks.floor``, a hand-written msgspec loop.

(a) and (c) must give identical items (``message_id`` aside); each figure is
the median CPU time of ``--runs`` runs after one warm-up ((a), (b) and (c)
take turns), and a ratio is the median of the ratios of the same turns (the ratio
of the medians is printed beside it). 1-byte and
512-byte chunkings are the worst cases for framing. The stage breakdown
chains the stages' classes in a plain loop, adding one stage at a time, to
show where the chain's time goes; ``--profile`` prints a cProfile of (a).
"""

import argparse
import asyncio
import cProfile
import importlib
import pstats
import sys
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

from rxresponses import from_bytes, responses
from rxresponses.operators import Dispatcher as _Dispatcher
from rxresponses.operators import (
    EventDecoder,
    Item,
    SSEFramer,
    Start,
    ToolCollector,
)

from ._util import (
    header,
    machine,
    median,
    medians,
    timed,
    timed_in_turns,
    timed_together,
    turn_ratio,
    verdict,
)
from .floor import run_floor
from .streamgen import build

KIB64 = 64 * 1024


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def run_library(data: bytes, chunk_size: int) -> list[Item]:
    items: list[Item] = []
    responses(from_bytes(data, chunk_size)).subscribe(items.append)
    return items


def run_floor_on(data: bytes, chunk_size: int) -> list[Item]:
    items: list[Item] = []
    size = chunk_size
    run_floor((data[i : i + size] for i in range(0, len(data), size)), items.append)
    return items


def same_items(a: list[Item], b: list[Item]) -> bool:
    """Equal item lists, ``start``'s fresh ``message_id`` aside."""
    if len(a) != len(b) or not a:
        return False
    if not (isinstance(a[0], Start) and isinstance(b[0], Start)):
        return False
    return a[1:] == b[1:]


def first_difference(a: list[Item], b: list[Item]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if i and x != y:
            return f"item {i}: {x!r} != {y!r}"
    return f"lengths {len(a)} != {len(b)}"


# ---- (b) openai-python --------------------------------------------------------


def _httpx_of_openai() -> Any:
    """The HTTP module openai-python is built on: ``httpx2`` from openai 3, else ``httpx``."""
    try:
        return importlib.import_module("httpx2")
    except ImportError:
        return importlib.import_module("httpx")


class OpenAIRun:
    """(b): each call reads the chunks once through ``responses.create(stream=True)``.

    It keeps its client and its own event loop, so that it can take turns
    with (a) and (c) as a plain call.
    """

    def __init__(self, data: bytes, chunk_size: int) -> None:
        from openai import AsyncOpenAI

        http_mod = _httpx_of_openai()

        class Body(http_mod.AsyncByteStream):  # type: ignore[misc,name-defined]
            async def __aiter__(self) -> AsyncIterator[bytes]:
                for i in range(0, len(data), chunk_size):
                    yield data[i : i + chunk_size]

        def handler(request: Any) -> Any:
            headers = {"content-type": "text/event-stream"}
            return http_mod.Response(200, headers=headers, stream=Body())

        self._loop = asyncio.new_event_loop()
        http = http_mod.AsyncClient(transport=http_mod.MockTransport(handler))
        self._client = AsyncOpenAI(
            api_key="sk-bench", base_url="http://bench.invalid/v1", http_client=http, max_retries=0
        )
        self.items: list[Item] = []

    async def _once(self) -> None:
        from ._openai_map import map_events

        self.items = []
        stream: Any = await self._client.responses.create(model="gpt-5", input="hi", stream=True)
        await map_events(stream, self.items.append)
        await stream.close()

    def __call__(self) -> list[Item]:
        self._loop.run_until_complete(self._once())
        return self.items

    def close(self) -> None:
        self._loop.run_until_complete(self._client.close())
        self._loop.close()


# ---- stages -------------------------------------------------------------------


def stage_times(data: bytes, chunk_size: int, runs: int) -> dict[str, float]:
    """Median seconds of the stages' classes chained in a plain loop, one more stage each time.

    Each loop streams (nothing is kept), so the step from one loop to the next
    is what a stage adds, without ReactiveX; the whole chain, timed in the
    same turns, adds the operators, the source and per-item delivery.
    """
    chunks = _chunks(data, chunk_size)

    def loop(depth: int) -> None:
        framer, decoder = SSEFramer(), EventDecoder()
        dispatcher, collector = _Dispatcher(), ToolCollector()
        for chunk in [*chunks, b""]:
            frames = framer.decode(chunk) if chunk else framer.flush()
            if depth > 1 and frames:
                events = decoder.decode(frames)
                if depth > 2 and events:
                    dispatched = dispatcher.dispatch(events)
                    if depth > 3 and dispatched:
                        collector.collect(dispatched)

    names = ("frame", "decode", "dispatch", "collect")
    loops: dict[str, Callable[[], object]] = {
        name: partial(loop, depth) for depth, name in enumerate(names, 1)
    }
    loops["chain"] = partial(run_library, data, chunk_size)
    return timed_together(loops, runs)


# ---- report -------------------------------------------------------------------


def _row(label: str, seconds: float, events: int, nbytes: int | None = None) -> str:
    us = seconds / events * 1e6
    rate = events / seconds
    extra = f"  {seconds / nbytes * 1e6:7.3f} µs/byte" if nbytes else ""
    return f"  {label:<44} {us:9.3f} µs/event  {rate:12,.0f} events/s{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the stream")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="20k events, memory on 2/20 MB")
    parser.add_argument(
        "--byte-events", type=int, default=3_000, help="events in the 1-byte-chunk stream"
    )
    parser.add_argument("--no-openai", action="store_true", help="skip openai-python")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory benchmark")
    parser.add_argument("--no-coldstart", action="store_true", help="skip the cold-start timing")
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown")
    parser.add_argument("--profile", action="store_true", help="cProfile (a) on 64 KiB chunks")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 20_000)
        args.byte_events = min(args.byte_events, 1_000)
    runs = max(1, args.runs)

    print(f"benchmarks.throughput: {machine()}")
    t = time.perf_counter()
    data = build(args.events)
    print(
        f"stream: {args.events:,} events, {len(data):,} bytes "
        f"(generated in {time.perf_counter() - t:.1f} s); median of {runs} runs after a warm-up"
    )
    n = args.events
    results: dict[str, float] = {}

    header("64 KiB chunks")
    floor_items = run_floor_on(data, KIB64)
    lib_items = run_library(data, KIB64)
    identical = same_items(lib_items, floor_items)
    print(f"  items: {len(lib_items):,}; (a) == (c): {identical}")
    if not identical:
        print("  MISMATCH " + first_difference(lib_items, floor_items))
    turns: dict[str, Callable[[], object]] = {
        "c64": partial(run_floor_on, data, KIB64),
        "a64": partial(run_library, data, KIB64),
    }
    openai_run = None if args.no_openai else OpenAIRun(data, KIB64)
    if openai_run is not None:
        turns["b64"] = openai_run
    times = timed_in_turns(turns, runs)
    results.update(medians(times))
    print(_row("(c) floor: hand-written msgspec loop", results["c64"], n))
    print(_row("(a) rxresponses, per-item delivery", results["a64"], n))
    if openai_run is not None:
        print(_row("(b) openai-python responses.create(stream)", results["b64"], n))
        print(f"  (b) items == (c) items: {same_items(openai_run.items, floor_items)}")
        openai_run.close()
    ratio_ac = turn_ratio(times, "a64", "c64")
    print(
        f"  (a)/(c) = {ratio_ac:.2f} (median of the turns' ratios; ratio of the medians "
        f"{results['a64'] / results['c64']:.2f})   [target <= 1.3: {verdict(ratio_ac <= 1.3)}]"
    )
    if openai_run is not None:
        ratio_ba = turn_ratio(times, "b64", "a64")
        print(
            f"  (b)/(a) = {ratio_ba:.1f} (ratio of the medians "
            f"{results['b64'] / results['a64']:.1f})   [target >= 35: {verdict(ratio_ba >= 35)}]"
        )

    header("512-byte chunks")
    same512 = same_items(run_library(data, 512), floor_items)
    trio = timed_in_turns(
        {
            "c512": partial(run_floor_on, data, 512),
            "a512": partial(run_library, data, 512),
            "a64 again": partial(run_library, data, KIB64),
        },
        runs,
    )
    results.update(medians(trio))
    print(_row("(c) floor", results["c512"], n))
    print(_row("(a) rxresponses", results["a512"], n))
    r512 = turn_ratio(trio, "a512", "a64 again")
    print(f"  (a) items == (c) items: {same512}; (a)/(c) = {turn_ratio(trio, 'a512', 'c512'):.2f}")
    print(
        f"  (a) 512 B / (a) 64 KiB (timed in the same turns) = {r512:.2f} "
        f"(ratio of the medians {results['a512'] / results['a64 again']:.2f})"
        f"   [target <= 2: {verdict(r512 <= 2)}]"
    )

    header("1-byte chunks")
    small = build(args.byte_events)
    small_floor = run_floor_on(small, KIB64)
    same1 = same_items(run_library(small, 1), small_floor)
    results["a1"] = median(timed(lambda: run_library(small, 1), runs))
    print(f"  stream: {args.byte_events:,} events, {len(small):,} bytes; items == (c): {same1}")
    print(_row("(a) rxresponses", results["a1"], args.byte_events, len(small)))
    per_byte = results["a1"] / len(small) * 1e6
    print(f"  {per_byte:.3f} µs per input byte   [target <= 1: {verdict(per_byte <= 1)}]")

    if not args.no_stages:
        header("where (a) spends its time: the stages' classes in a plain loop, cumulative")
        stages = stage_times(data, KIB64, 2 * runs)
        total = stages["chain"]
        labels = {
            "frame": "SSEFramer",
            "decode": "+ EventDecoder",
            "dispatch": "+ Dispatcher",
            "collect": "+ ToolCollector",
            "chain": "(a): + operators, source, finalize, on_next",
        }
        previous = 0.0
        for name, seconds in stages.items():
            print(
                f"  {labels[name]:<44} {seconds / n * 1e6:7.3f} µs/event  "
                f"{seconds / total:6.1%}   step {(seconds - previous) / n * 1e6:+.3f} µs"
            )
            previous = seconds
        floor_us = results["c64"] / n * 1e6
        print(f"  {'(c) the floor, for comparison':<44} {floor_us:7.3f} µs/event")

    if args.profile:
        header("cProfile of (a), 64 KiB chunks (top 20 by own time)")
        profiler = cProfile.Profile()
        profiler.enable()
        run_library(data, KIB64)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)

    if not args.no_memory:
        from . import memory

        memory.run(quick=args.quick)
    if not args.no_coldstart:
        from . import coldstart

        coldstart.run(runs=max(5, runs))
    # Missed targets are reported above; only wrong items fail the run.
    return 0 if identical and same512 and same1 else 1


if __name__ == "__main__":
    sys.exit(main())
