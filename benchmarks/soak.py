"""Soak and storms: many HTTP streams, disposals and dropped connections, then a leak check.

    python -m benchmarks.soak            # 3 rounds of 10,000 + 500 streams, 1,000 cycles
    python -m benchmarks.soak --quick    # 3 rounds of 1,000 + 200 streams, 200 cycles

Everything runs in this process on one event loop: the embedded replay server
(``rxresponses.server.ReplayServer``) on 127.0.0.1 and the real aiohttp client,
one shared ``ClientSession`` whose connector is sized for the storm. Each
round does, with the bundled demo recording (109 events, 36 KB, two tool
calls):

1. ``sequential`` streams one after the other (unpaced server): each must
   give exactly the items of a replay of the same file, ``message_id`` aside;
2. ``concurrent`` streams at once, same check;
3. ``cycles`` subscribe-then-dispose cycles, 50 at a time, against a paced
   server: disposed right after ``subscribe`` (before the request exists),
   after a random delay of 0-5 ms (during the TCP and HTTP handshake), after
   the first item, or after a random number of items (mid-stream); nothing
   may arrive after ``dispose``, and the server must see every connection
   that it served closed;
4. the server dropping the connection after N events, for every N from 0 to
   the last event before the terminal one: each stream gives exactly one
   ``stream_interrupted`` error, keeps the SPEC §2 invariants and ends with
   ``done`` (``stop_reason: null``).

After each round the session is closed and ``gc.collect()`` run; then no file
descriptor, socket or asyncio task may be open beyond what was open before
the first round, and no warning (``ResourceWarning`` "unclosed ...",
``RuntimeWarning`` "never awaited"), unraisable exception, event-loop error
or ``asyncio``/``aiohttp`` log record at WARNING or above may have been
seen. RSS (``VmRSS``) is read after each round: from the second round to the
third it must not grow (the allocator keeps what the first round took).

The open-file soft limit is raised (up to the hard limit) so that the
concurrent streams fit: each takes a client and a server socket.
"""

import argparse
import asyncio
import gc
import logging
import os
import random
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from reactivex import Observable
from rxresponses import Done, Error, Item, Start, from_file, responses
from rxresponses.http import build_request, stream_responses
from rxresponses.items import ToolRequestArg, ToolRequestComplete, ToolRequestStart
from rxresponses.server import ReplayServer, split_events

from ._util import header, machine, verdict

RECORDING = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "demo.sse"
BODY = build_request("gpt-5", "soak")
MIB = 1024 * 1024
#: Generous bound for one stream on a loaded machine.
STREAM_TIMEOUT = 60.0
#: How many disposal cycles run at once.
CYCLE_BATCH = 50
#: RSS growth from round 2 to round 3 that still counts as none (allocator noise).
RSS_SLACK = 4 * MIB
TERMINAL_TYPES = (b'"response.completed"', b'"response.incomplete"', b'"response.failed"')


@dataclass(frozen=True)
class Sizes:
    """How much one round does."""

    sequential: int
    concurrent: int
    cycles: int
    boundaries: bool = True


FULL = Sizes(sequential=10_000, concurrent=500, cycles=1_000)
QUICK = Sizes(sequential=1_000, concurrent=200, cycles=200)


@dataclass
class RoundReport:
    """What one round did and found."""

    streams: int = 0
    faults: int = 0
    disposals: int = 0
    drops: int = 0
    problems: list[str] = field(default_factory=list)
    rss: int = 0
    seconds: float = 0.0


# --- process state ---------------------------------------------------------------------


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to ``wanted`` (at most the hard limit); the new soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def open_fds() -> list[str]:
    """What each of this process's file descriptors points at (``/proc/self/fd``)."""
    targets = []
    for name in os.listdir("/proc/self/fd"):
        # The descriptor of the listing itself is closed by now: skip it.
        with suppress(OSError):
            targets.append(os.readlink(f"/proc/self/fd/{name}"))
    return targets


def open_sockets() -> int:
    return sum(1 for target in open_fds() if target.startswith("socket:"))


def rss_bytes() -> int:
    """The resident set size now (``VmRSS``)."""
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


@dataclass
class Baseline:
    fds: int
    sockets: int
    tasks: int


class Watch:
    """Catches what a leak shows as: warnings, unraisable exceptions, loop errors, log records.

    ``with Watch() as watch:`` ... ``watch.problems`` lists them (``[]`` if none).
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._warnings: warnings.catch_warnings[list[warnings.WarningMessage]] | None = None
        self._recorded: list[warnings.WarningMessage] = []
        self._hook: Callable[[Any], object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: Any = None
        self._log = _ListHandler(self.problems)
        self._levels: dict[str, int] = {}

    def __enter__(self) -> "Watch":
        self._warnings = warnings.catch_warnings(record=True)
        self._recorded = self._warnings.__enter__()
        warnings.simplefilter("always")
        self._hook = sys.unraisablehook

        def unraisable(info: Any) -> None:
            self.problems.append(f"unraisable: {info.exc_type.__name__}: {info.exc_value}")

        sys.unraisablehook = unraisable
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        if self._loop is not None:
            self._handler = self._loop.get_exception_handler()

            def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
                self.problems.append(f"event loop: {context.get('message')}")

            self._loop.set_exception_handler(on_loop_error)
        for name in ("asyncio", "aiohttp"):
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.WARNING)
            logger.addHandler(self._log)
        return self

    def collect(self) -> list[str]:
        """Run the garbage collector and add what it made visible; the problems so far."""
        for _ in range(3):
            gc.collect()
        for message in self._recorded:
            self.problems.append(f"{message.category.__name__}: {message.message}")
        self._recorded.clear()
        return self.problems

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.collect()
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self._log)
            logger.setLevel(level)
        if self._loop is not None:
            self._loop.set_exception_handler(self._handler)
        if self._hook is not None:
            sys.unraisablehook = self._hook
        if self._warnings is not None:
            self._warnings.__exit__(exc_type, exc, tb)


class _ListHandler(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(f"log {record.name}: {record.getMessage()}")


# --- checking items --------------------------------------------------------------------


def invariant_problem(items: Sequence[Item]) -> str | None:
    """The first SPEC §2 invariant (1-4) that ``items`` break, or ``None``."""
    if not items or type(items[0]) is not Start:
        return "the first item is not start"
    if sum(1 for item in items if type(item) is Start) != 1:
        return "more than one start"
    if type(items[-1]) is not Done or sum(1 for item in items if type(item) is Done) != 1:
        return "done is not the one last item"
    pending: dict[str, list[list[str]]] = {}
    for item in items:
        if isinstance(item, ToolRequestStart):
            pending.setdefault(item.id, []).append([])
        elif isinstance(item, ToolRequestArg):
            calls = pending.get(item.id)
            if not calls:
                return f"an argument piece of call {item.id} outside the call"
            calls[0].append(item.chunk)
        elif isinstance(item, ToolRequestComplete):
            calls = pending.get(item.tool_call.id)
            if not calls:
                return f"call {item.tool_call.id} completed but never started"
            if "".join(calls.pop(0)) != item.tool_call.arguments:
                return f"the pieces of call {item.tool_call.id} do not add up to its arguments"
    if any(calls for calls in pending.values()):
        return "a tool call never completed"
    return None


def reference_items(path: Path) -> list[Item]:
    """The items of a replay of ``path`` without HTTP."""
    out: list[Item] = []
    responses(from_file(path)).subscribe(out.append)
    return out


class Collector:
    """One subscription's items; ``finished`` resolves on completion or error."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.failure: Exception | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.first = asyncio.Event()
        self.wanted = 0
        self.reached = asyncio.Event()

    def on_next(self, item: Item) -> None:
        self.items.append(item)
        self.first.set()
        if self.wanted and len(self.items) >= self.wanted:
            self.reached.set()

    def on_error(self, error: Exception) -> None:
        self.failure = error
        if not self.finished.done():
            self.finished.set_result(None)
        self.reached.set()

    def on_completed(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)
        self.reached.set()

    def subscribe(self, items: Observable[Item]) -> Any:
        return items.subscribe(self.on_next, self.on_error, self.on_completed)


async def collect(items: Observable[Item], timeout: float = STREAM_TIMEOUT) -> Collector:
    run = Collector()
    run.subscribe(items)
    await asyncio.wait_for(asyncio.shield(run.finished), timeout)
    return run


def _compare(run: Collector, expected: Sequence[Item]) -> str | None:
    if run.failure is not None:
        return f"on_error: {run.failure!r}"
    problem = invariant_problem(run.items)
    if problem is not None:
        return problem
    if run.items[1:] != list(expected[1:]):
        return f"items differ from the file replay ({len(run.items)} vs {len(expected)})"
    return None


# --- the storms ------------------------------------------------------------------------


async def sequential_streams(
    base_url: str, session: aiohttp.ClientSession, count: int, expected: Sequence[Item]
) -> list[str]:
    """``count`` streams one after the other; what went wrong."""
    problems: list[str] = []
    items = stream_responses(BODY, base_url=base_url, api_key="", session=session)
    for index in range(count):
        problem = _compare(await collect(items), expected)
        if problem is not None:
            problems.append(f"sequential stream {index}: {problem}")
    return problems


async def concurrent_streams(
    base_url: str, session: aiohttp.ClientSession, count: int, expected: Sequence[Item]
) -> list[str]:
    """``count`` streams at once; what went wrong."""
    items = stream_responses(BODY, base_url=base_url, api_key="", session=session)
    runs = await asyncio.gather(*(collect(items) for _ in range(count)))
    problems = []
    for index, run in enumerate(runs):
        problem = _compare(run, expected)
        if problem is not None:
            problems.append(f"concurrent stream {index}: {problem}")
    return problems


async def dispose_cycles(
    server: ReplayServer, session: aiohttp.ClientSession, count: int, seed: int
) -> tuple[int, list[str]]:
    """``count`` subscribe-then-dispose cycles at random points; ``(disposals, problems)``."""
    rng = random.Random(seed)
    problems: list[str] = []
    items = stream_responses(BODY, base_url=server.base_url, api_key="", session=session)
    finished: list[tuple[int, Collector, int]] = []
    requests_before = server.stats.requests

    async def cycle(index: int) -> None:
        run = Collector()
        mode = index % 4
        if mode == 3:
            run.wanted = rng.randint(2, 100)
        subscription = run.subscribe(items)
        if mode == 1:
            await asyncio.sleep(rng.uniform(0.0, 0.005))
        elif mode == 2:
            await asyncio.wait_for(run.first.wait(), STREAM_TIMEOUT)
        elif mode == 3:
            await asyncio.wait_for(run.reached.wait(), STREAM_TIMEOUT)
        subscription.dispose()
        finished.append((index, run, len(run.items)))

    for start in range(0, count, CYCLE_BATCH):
        await asyncio.gather(*(cycle(i) for i in range(start, min(count, start + CYCLE_BATCH))))
    if not await server.stats.wait_idle(timeout=STREAM_TIMEOUT):
        problems.append(f"the server still writes {server.stats.active} responses after dispose")
    await asyncio.sleep(0.05)  # anything still queued for a disposed subscriber would land now
    for index, run, seen in finished:
        if len(run.items) != seen:
            problems.append(f"cycle {index}: {len(run.items) - seen} item(s) after dispose")
        if run.failure is not None:
            problems.append(f"cycle {index}: on_error {run.failure!r}")
        if run.items and type(run.items[0]) is not Start:
            problems.append(f"cycle {index}: the first item is not start")
        if sum(1 for item in run.items if type(item) is Done) > 1:
            problems.append(f"cycle {index}: more than one done")
    served = server.stats.requests - requests_before
    if served > count:
        problems.append(f"{served} requests for {count} subscriptions")
    return count, problems


def terminal_index(events: Sequence[bytes]) -> int:
    """The index of the recording's first terminal event."""
    for index, event in enumerate(events):
        if any(kind in event for kind in TERMINAL_TYPES):
            return index
    raise ValueError("the recording has no terminal event")


async def close_at_every_boundary(
    recording: Path, session: aiohttp.ClientSession, step: int = 1
) -> tuple[int, list[str]]:
    """The server drops the connection after N events, for every N before the terminal one.

    ``(connections dropped, problems)``.
    """
    events = split_events(recording.read_bytes())
    problems: list[str] = []
    drops = 0
    for cut in range(0, terminal_index(events) + 1, step):
        async with ReplayServer([recording], events_per_second=None, close_after=cut) as server:
            items = stream_responses(BODY, base_url=server.base_url, api_key="", session=session)
            run = await collect(items)
            drops += server.stats.dropped
            if server.stats.dropped != 1:
                problems.append(f"close_after={cut}: the server dropped {server.stats.dropped}")
        if run.failure is not None:
            problems.append(f"close_after={cut}: on_error {run.failure!r}")
            continue
        problem = invariant_problem(run.items)
        if problem is not None:
            problems.append(f"close_after={cut}: {problem}")
            continue
        kinds = [item.kind for item in run.items if isinstance(item, Error)]
        if kinds != ["stream_interrupted"]:
            problems.append(f"close_after={cut}: errors {kinds}, not one stream_interrupted")
        last = run.items[-1]
        if not isinstance(last, Done) or last.stop_reason is not None:
            problems.append(f"close_after={cut}: ends with {last!r}")
    return drops, problems


@contextmanager
def _timer(report: RoundReport) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.seconds = time.perf_counter() - start


async def one_round(sizes: Sizes, seed: int, expected: Sequence[Item]) -> RoundReport:
    """Every storm once, each on a fresh shared session that is closed at the end."""
    report = RoundReport()
    with _timer(report):
        limit = max(sizes.concurrent, CYCLE_BATCH) + 10
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with ReplayServer([RECORDING], events_per_second=None) as server:
                report.problems += await sequential_streams(
                    server.base_url, session, sizes.sequential, expected
                )
                report.problems += await concurrent_streams(
                    server.base_url, session, sizes.concurrent, expected
                )
                report.streams += sizes.sequential + sizes.concurrent
            # Paced: a 109-event stream takes about 0.1 s, so disposals land mid-stream.
            async with ReplayServer([RECORDING], events_per_second=1000) as paced:
                disposals, problems = await dispose_cycles(paced, session, sizes.cycles, seed)
                report.problems += problems
                report.disposals = disposals
                report.streams += sizes.cycles
            if sizes.boundaries:
                drops, problems = await close_at_every_boundary(RECORDING, session)
                report.problems += problems
                report.drops = drops
                report.streams += drops
        report.faults = report.disposals + report.drops
    return report


def baseline() -> Baseline:
    gc.collect()
    return Baseline(len(open_fds()), open_sockets(), len(other_tasks()))


async def leaks_since(start: Baseline, timeout: float = 10.0) -> list[str]:
    """File descriptors, sockets and tasks open beyond ``start`` (after letting them close)."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        now = baseline()
        found = []
        if now.fds > start.fds:
            found.append(f"{now.fds - start.fds} file descriptor(s) more than at the start")
        if now.sockets > start.sockets:
            found.append(f"{now.sockets - start.sockets} socket(s) more than at the start")
        if now.tasks > start.tasks:
            names = sorted(task.get_name() for task in other_tasks())
            found.append(f"{now.tasks - start.tasks} task(s) more than at the start: {names}")
        if not found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


@dataclass
class SoakReport:
    rounds: list[RoundReport]
    leaks: list[str]
    #: File descriptors, sockets and other tasks before the first round and after the last.
    before: Baseline
    after: Baseline

    @property
    def rss_growth(self) -> int:
        """RSS growth from the second round to the third (0 with fewer rounds)."""
        if len(self.rounds) < 3:
            return 0
        return self.rounds[2].rss - self.rounds[1].rss


async def soak(sizes: Sizes, rounds: int = 3, seed: int = 1) -> SoakReport:
    """Run ``rounds`` rounds with a leak check after each; the figures and what was found."""
    raise_open_file_limit(4 * (sizes.concurrent + CYCLE_BATCH) + 256)
    expected = reference_items(RECORDING)
    reports: list[RoundReport] = []
    leaks: list[str] = []
    start = baseline()
    with Watch() as watch:
        for number in range(rounds):
            report = await one_round(sizes, seed + number, expected)
            for leak in await leaks_since(start):
                leaks.append(f"round {number + 1}: {leak}")
            for problem in watch.collect():
                leaks.append(f"round {number + 1}: {problem}")
            watch.problems.clear()
            report.rss = rss_bytes()
            reports.append(report)
    return SoakReport(reports, leaks, start, baseline())


def print_report(sizes: Sizes, report: SoakReport) -> bool:
    """The table; ``True`` if nothing was wrong."""
    header(
        f"soak: {len(report.rounds)} rounds of {sizes.sequential:,} sequential + "
        f"{sizes.concurrent:,} concurrent streams, {sizes.cycles:,} dispose cycles, "
        "a drop at every event boundary"
    )
    print(
        f"  {'round':>5}  {'streams':>8}  {'faults':>7}  {'(disposals':>10}  {'drops)':>6}  "
        f"{'problems':>8}  {'RSS after':>10}  {'seconds':>7}"
    )
    for number, one in enumerate(report.rounds, 1):
        print(
            f"  {number:>5}  {one.streams:>8,}  {one.faults:>7,}  {one.disposals:>10,}  "
            f"{one.drops:>6,}  {len(one.problems):>8}  {one.rss / MIB:>6.1f} MiB  "
            f"{one.seconds:>7.1f}"
        )
    streams = sum(one.streams for one in report.rounds)
    faults = sum(one.faults for one in report.rounds)
    problems = [problem for one in report.rounds for problem in one.problems]
    seconds = sum(one.seconds for one in report.rounds)
    print(f"  total: {streams:,} streams, {faults:,} faults injected, {seconds:.1f} s")
    print(f"  wrong items: {len(problems)}")
    for problem in problems[:20]:
        print(f"    {problem}")
    before, after = report.before, report.after
    print(
        f"  before -> after: {before.fds} -> {after.fds} file descriptors, "
        f"{before.sockets} -> {after.sockets} sockets, {before.tasks} -> {after.tasks} other tasks"
    )
    print(f"  leaks found: {len(report.leaks)} (fds, sockets, tasks, warnings, loop errors)")
    for leak in report.leaks[:20]:
        print(f"    {leak}")
    growth = report.rss_growth
    rss_ok = growth <= RSS_SLACK
    print(
        f"  RSS growth round 2 -> 3: {growth / MIB:+.1f} MiB"
        f"   [target <= {RSS_SLACK / MIB:g} MiB: {verdict(rss_ok)}]"
    )
    return not problems and not report.leaks and rss_ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller rounds (seconds)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the disposal points")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    print(machine())
    report = asyncio.run(soak(sizes, rounds=args.rounds, seed=args.seed))
    return 0 if print_report(sizes, report) else 1


if __name__ == "__main__":
    sys.exit(main())
