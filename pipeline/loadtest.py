"""A load test as an observable: requests sent at a chosen load, each timed item by item.

``load_test(make_items, requests=N, concurrency=C)`` (or ``rate=R``) sends
``N`` requests, each ``make_items(i)`` (a cold observable of items, such as
``stream_responses(...)``), and emits a ``RequestResult`` as each request ends
and, at most a few times a second, the running ``Summary``; the last ``Summary`` has ``final=True``.
Subscribe on a running asyncio loop; disposing stops the run.

Every figure is measured from the moment the request is sent (subscribed):

- ``ttft``: to the first content item (text, refusal, reasoning, or a tool
  call's start or first argument piece) — reasoning counts;
- ``ttfa``: to the first answer item (text, refusal or a tool call's start)
  — reasoning does not count;
- ``e2e``: to ``done``;
- ``itl``: per request, ``(e2e - ttft) / (output_tokens - 1)``, with
  ``output_tokens`` from the stream's ``usage`` (without one, the count of
  content items, and the request is flagged ``tokens_estimated``);
- ``icl``: every gap between consecutive content items, pooled.

A request whose stream ends in an error (an ``error`` item, then ``done``
with no stop reason) counts as failed and is kept out of the latency figures;
errors are counted by kind.
"""

import asyncio
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal, TypeAlias

import msgspec
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .operators import (
    Done,
    Error,
    Item,
    Reasoning,
    Refusal,
    Text,
    ToolRequestArg,
    ToolRequestStart,
    Usage,
)

Arrival: TypeAlias = Literal["poisson", "constant"]

_CONTENT = (Text, Refusal, Reasoning, ToolRequestStart, ToolRequestArg)
_ANSWER = (Text, Refusal, ToolRequestStart)
#: The running ``Summary`` comes at most this often (seconds); the final one always.
SUMMARY_INTERVAL = 0.25
#: Goodput bounds are given in milliseconds for these metrics.
GOODPUT_METRICS = ("ttft", "ttfa", "itl", "e2e")


class Stats(msgspec.Struct, frozen=True):
    """One metric over the run, in milliseconds; ``None`` where there is no value."""

    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


class RequestResult(msgspec.Struct, frozen=True):
    """One request: when it was sent, when each item came, and what it measured.

    Times are seconds; ``sent`` from the start of the run, ``item_times`` and
    the metrics from ``sent``.
    """

    index: int
    sent: float
    item_types: list[str]
    item_times: list[float]
    ttft: float | None
    ttfa: float | None
    e2e: float | None
    itl: float | None
    output_tokens: int
    tokens_estimated: bool
    stop_reason: str | None
    failed: bool
    errors: list[str]
    error_message: str | None
    good: bool


class Summary(msgspec.Struct, frozen=True):
    """The figures of the run so far (``final`` once every request has ended)."""

    requests: int
    completed: int
    failed: int
    errors: dict[str, int]
    duration_s: float
    requests_per_s: float
    output_tokens_per_s: float
    goodput_per_s: float | None
    ttft_ms: Stats
    ttfa_ms: Stats
    itl_ms: Stats
    icl_ms: Stats
    e2e_ms: Stats
    tokens_estimated: int
    final: bool = False


Event: TypeAlias = RequestResult | Summary


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, linearly interpolated."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stats_ms(seconds: Iterable[float]) -> Stats:
    """Mean, p50, p90, p95, p99 and max of ``seconds``, in milliseconds."""
    ordered = sorted(value * 1000.0 for value in seconds)
    if not ordered:
        return Stats(None, None, None, None, None, None)
    return Stats(
        mean=sum(ordered) / len(ordered),
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        max=ordered[-1],
    )


def parse_goodput(text: str) -> dict[str, float]:
    """``"ttft:500,e2e:3000"`` as ``{"ttft": 0.5, "e2e": 3.0}`` (milliseconds in, seconds out)."""
    bounds: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition(":")
        if not sep or name not in GOODPUT_METRICS:
            raise ValueError(f"goodput bounds are METRIC:MS with METRIC one of {GOODPUT_METRICS}")
        milliseconds = float(value)
        if not milliseconds > 0:
            raise ValueError(f"a goodput bound must be positive, not {value!r}")
        bounds[name] = milliseconds / 1000.0
    return bounds


def measure(
    index: int,
    sent: float,
    items: Sequence[tuple[Item, float]],
    goodput: Mapping[str, float] | None = None,
) -> RequestResult:
    """The figures of one request from its items and their arrival times (seconds after sent)."""
    ttft = ttfa = e2e = None
    content_times: list[float] = []
    output_tokens: int | None = None
    stop_reason: str | None = None
    errors: list[str] = []
    error_message: str | None = None
    for item, at in items:
        if isinstance(item, _CONTENT):
            content_times.append(at)
            if ttft is None:
                ttft = at
            if ttfa is None and isinstance(item, _ANSWER):
                ttfa = at
        elif isinstance(item, Usage):
            output_tokens = item.tokens.output_tokens
        elif isinstance(item, Error):
            errors.append(item.kind)
            error_message = error_message or item.message
        elif isinstance(item, Done):
            e2e = at
            stop_reason = item.stop_reason
    failed = e2e is None or (bool(errors) and stop_reason is None)
    estimated = output_tokens is None
    tokens = len(content_times) if output_tokens is None else output_tokens
    itl = None
    if not failed and ttft is not None and e2e is not None and tokens > 1:
        itl = (e2e - ttft) / (tokens - 1)
    figures = {"ttft": ttft, "ttfa": ttfa, "itl": itl, "e2e": e2e}
    good = not failed and all(
        figures[name] is not None and figures[name] <= bound  # type: ignore[operator]
        for name, bound in (goodput or {}).items()
    )
    return RequestResult(
        index=index,
        sent=sent,
        item_types=[type(item).__struct_config__.tag for item, _ in items],  # type: ignore[misc]
        item_times=[at for _, at in items],
        ttft=ttft,
        ttfa=ttfa,
        e2e=e2e,
        itl=itl,
        output_tokens=tokens,
        tokens_estimated=estimated,
        stop_reason=stop_reason,
        failed=failed,
        errors=errors,
        error_message=error_message,
        good=good,
    )


def _gaps(result: RequestResult) -> list[float]:
    times = [
        at
        for kind, at in zip(result.item_types, result.item_times, strict=True)
        if kind in _CONTENT_TAGS
    ]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


_CONTENT_TAGS = frozenset(cls.__struct_config__.tag for cls in _CONTENT)


def summarize(
    results: Sequence[RequestResult],
    duration: float,
    *,
    goodput: Mapping[str, float] | None = None,
    final: bool = False,
) -> Summary:
    """The run's figures over ``results`` (failed requests out of the latencies)."""
    ok = [r for r in results if not r.failed]
    errors = Counter(kind for r in results for kind in r.errors)
    span = max(duration, 1e-9)
    return Summary(
        requests=len(results),
        completed=len(ok),
        failed=len(results) - len(ok),
        errors=dict(sorted(errors.items())),
        duration_s=duration,
        requests_per_s=len(ok) / span,
        output_tokens_per_s=sum(r.output_tokens for r in ok) / span,
        goodput_per_s=sum(r.good for r in ok) / span if goodput else None,
        ttft_ms=stats_ms(r.ttft for r in ok if r.ttft is not None),
        ttfa_ms=stats_ms(r.ttfa for r in ok if r.ttfa is not None),
        itl_ms=stats_ms(r.itl for r in ok if r.itl is not None),
        icl_ms=stats_ms(gap for r in ok for gap in _gaps(r)),
        e2e_ms=stats_ms(r.e2e for r in ok if r.e2e is not None),
        tokens_estimated=sum(r.tokens_estimated for r in ok),
        final=final,
    )


def arrival_times(count: int, rate: float, arrival: Arrival, seed: int) -> list[float]:
    """When each of ``count`` requests is sent in an open loop, in seconds from the start."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    if arrival == "constant":
        return [index / rate for index in range(count)]
    draw = random.Random(seed)
    times, now = [], 0.0
    for _ in range(count):
        times.append(now)
        now += draw.expovariate(rate)
    return times


async def _one(
    index: int,
    make_items: Callable[[int], Observable[Item]],
    start: float,
    goodput: Mapping[str, float] | None,
) -> RequestResult:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    seen: list[tuple[Item, float]] = []
    clock = time.perf_counter
    sent = clock()

    def on_next(item: Item) -> None:
        seen.append((item, clock() - sent))

    def on_end(_: object = None) -> None:
        if not finished.done():
            finished.set_result(None)

    subscription = make_items(index).subscribe(on_next, on_end, on_end)
    try:
        await finished
    finally:
        subscription.dispose()
    return measure(index, sent - start, seen, goodput)


def load_test(
    make_items: Callable[[int], Observable[Item]],
    *,
    requests: int,
    concurrency: int | None = None,
    rate: float | None = None,
    arrival: Arrival = "poisson",
    seed: int = 0,
    goodput: Mapping[str, float] | None = None,
) -> Observable[Event]:
    """Send ``requests`` requests, closed loop (``concurrency``) or open loop (``rate`` per second).

    Emits each ``RequestResult`` as its request ends, and after it the running
    ``Summary`` (at most every ``SUMMARY_INTERVAL`` seconds); the last
    ``Summary`` has ``final=True``, then it completes.
    Each subscription runs its own load test on the running asyncio loop;
    disposing it cancels the requests in flight.
    """
    if requests < 1:
        raise ValueError(f"requests must be at least 1, not {requests}")
    if (concurrency is None) == (rate is None):
        raise ValueError("give either concurrency (closed loop) or rate (open loop)")
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    schedule = None if rate is None else arrival_times(requests, rate, arrival, seed)

    def subscribe(
        observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        loop = asyncio.get_running_loop()
        results: list[RequestResult] = []
        start = time.perf_counter()
        last_summary = -math.inf

        def report(result: RequestResult) -> None:
            nonlocal last_summary
            results.append(result)
            observer.on_next(result)
            now = time.perf_counter()
            if now - last_summary >= SUMMARY_INTERVAL:  # summing up costs O(results)
                last_summary = now
                observer.on_next(summarize(results, now - start, goodput=goodput))

        async def closed_loop(workers: int) -> None:
            next_index = 0

            async def worker() -> None:
                nonlocal next_index
                while next_index < requests:
                    index = next_index
                    next_index += 1
                    report(await _one(index, make_items, start, goodput))

            await asyncio.gather(*(worker() for _ in range(min(workers, requests))))

        async def open_loop(times: list[float]) -> None:
            async def at(index: int, when: float) -> None:
                delay = start + when - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                report(await _one(index, make_items, start, goodput))

            await asyncio.gather(*(at(index, when) for index, when in enumerate(times)))

        async def run() -> None:
            try:
                if schedule is None:
                    assert concurrency is not None
                    await closed_loop(concurrency)
                else:
                    await open_loop(schedule)
            except asyncio.CancelledError:
                return
            except Exception as exc:  # a bug, or the caller's observer raised
                observer.on_error(exc)
                return
            duration = time.perf_counter() - start
            observer.on_next(summarize(results, duration, goodput=goodput, final=True))
            observer.on_completed()

        task = loop.create_task(run())

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return Observable(subscribe)


__all__ = [
    "GOODPUT_METRICS",
    "SUMMARY_INTERVAL",
    "Arrival",
    "Event",
    "RequestResult",
    "Stats",
    "Summary",
    "arrival_times",
    "load_test",
    "measure",
    "parse_goodput",
    "percentile",
    "stats_ms",
    "summarize",
]
