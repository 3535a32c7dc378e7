"""Fan-out beyond one process: ``rxresponses web`` watchers, and the Redis Streams path.

    python -m benchmarks.fanout            # 1, 10, 100 watchers; Redis with the 200k-event stream
    python -m benchmarks.fanout --quick    # fewer items, a 20k-event stream

(1) **Watchers.** The web app (in-memory broker) runs in its own process on
127.0.0.1; its upstream emits ``start``, then ``--items`` text items at
``--rate`` items per second, each carrying its creation time
(``time.perf_counter()``: on Linux the system-wide monotonic clock, the same
in both processes), then ``done``. W watchers (in this process) follow the
stream over SSE; for every item and watcher the extra latency is the
arrival time minus the creation time. Two kinds of watcher (``--clients``):
``bare`` ones stamp an event when its bytes arrive (a bare asyncio
connection), ``aiohttp`` ones when aiohttp's client hands it over, after
its parsing and task switches for all W copies in this one process.
Printed: p50 and p99, the server's CPU time per item and per delivered
event, this process's CPU per event, and the p99 of how late a process that
only sleeps 5 ms and wakes (run alongside) wakes up: how long a woken
process waits for a core on this machine at that moment, a floor under
every p99 here. Then a floor for the server's part: the CPU of one
``send`` of a 120-byte frame to each of W loopback connections, by hand.

(2) **Redis.** A real ``redis-server`` on a free loopback port. The items of
the 200k-event stream (``benchmarks.streamgen``, run through the chain
first) go through ``BrokerSink`` into ``RedisBroker`` as fast as one
producer can append them (batches of up to ``MAX_BATCH`` items, one script
call each): sustained items/s. Then the delivery lag: a producer appends
stamped items at ``--redis-rate`` items per second while a follower (another
process) reads them back with ``XREAD BLOCK``; lag = read time minus creation
time, p50 and p99.

Targets: p99 extra latency under 5 ms at 100 watchers; at least 50,000
items/s into Redis from one producer.
"""

import argparse
import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import aiohttp
import msgspec
import reactivex
from aiohttp import web
from reactivex import Observable, abc
from reactivex.disposable import Disposable
from rxresponses import Done, Item, Start, Text, from_bytes, responses
from rxresponses.broker import BrokerSink
from rxresponses.web import make_app

from ._util import header, machine, percentile, verdict
from .streamgen import build

TARGET_P99_MS = 5.0
TARGET_REDIS_ITEMS_PER_S = 50_000


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- (1) the web server process -----------------------------------------------------------


def stamped(count: int, rate: float, delay: float) -> Observable[Item]:
    """``start``, then ``count`` text items paced at ``rate``/s after ``delay`` s, ``done``."""

    def subscribe(
        observer: abc.ObserverBase[Item], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        async def pump() -> None:
            observer.on_next(Start(message_id="bench"))
            await asyncio.sleep(delay)
            began = time.perf_counter()
            for n in range(count):
                wait = began + n / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                observer.on_next(Text(chunk=repr(time.perf_counter())))
            observer.on_next(Done(stop_reason="end_turn"))
            observer.on_completed()

        task = asyncio.get_running_loop().create_task(pump())

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return Observable(subscribe)


def serve(port_file: str) -> None:
    """The server role: the web app whose upstream is ``stamped``; CPU time at ``GET /cpu``."""

    def upstream(body: Mapping[str, Any]) -> Observable[Item]:
        return stamped(int(body["items"]), float(body["rate"]), float(body["delay"]))

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu": _cpu()})

    async def main() -> None:
        app = make_app(upstream)
        app.router.add_get("/cpu", cpu)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        with open(port_file, "w") as file:
            file.write(str(runner.addresses[0][1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# --- (1) the watchers -------------------------------------------------------------------


class _Chunk(msgspec.Struct):
    type: str
    chunk: str = ""


_DECODE = msgspec.json.Decoder(_Chunk)


async def _follow(session: aiohttp.ClientSession, url: str, latencies: list[float]) -> int:
    """Read one watcher's events to ``done`` with aiohttp's client; returns how many arrived."""
    count = 0
    held = b""
    async with session.get(url) as response:
        async for chunk in response.content.iter_any():
            now = time.perf_counter()
            events = (held + chunk).split(b"\n\n")
            held = events.pop()
            for event in events:
                kind = _note(event, now, latencies)
                count += kind is not None
                if kind == "done":
                    return count
    return count


def _note(event: bytes, now: float, latencies: list[float]) -> str | None:
    """The type of the item in ``event``, if any; a text item's latency goes in ``latencies``."""
    start = event.find(b"\ndata: ")
    if start < 0:
        return None
    item = _DECODE.decode(event[start + 7 :])
    if item.type == "text":
        latencies.append(now - float(item.chunk))
    return item.type


class _BareWatcher(asyncio.Protocol):
    """One watcher on a bare connection: each event is stamped as its bytes arrive.

    With a hundred watchers in one process, an HTTP client's work for the
    other watchers' copies of an item (parsing, waking their tasks) would
    count as latency of this one; here the bytes are stamped when read and
    parsed after every connection ready at that moment has been read.
    """

    def __init__(self, request: bytes, latencies: list[float]) -> None:
        self.request = request
        self.latencies = latencies
        self.count = 0
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._arrived: list[tuple[float, bytes]] = []
        self._raw = b""  # HTTP: the head, then chunked body
        self._body = False
        self._events = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self._arrived:
            asyncio.get_running_loop().call_soon(self._parse)
        self._arrived.append((time.perf_counter(), data))

    def _parse(self) -> None:
        arrived, self._arrived = self._arrived, []
        for now, data in arrived:
            self._take(now, data)

    def _take(self, now: float, data: bytes) -> None:
        raw = self._raw + data
        if not self._body:
            head = raw.find(b"\r\n\r\n")
            if head < 0:
                self._raw = raw
                return
            assert raw.startswith(b"HTTP/1.1 200"), raw
            assert b"chunked" in raw[:head].lower(), raw
            raw, self._body = raw[head + 4 :], True
        at = 0
        while True:  # chunked transfer coding
            line = raw.find(b"\r\n", at)
            if line < 0:
                break
            size = int(raw[at:line], 16)
            if len(raw) < line + 2 + size + 2:
                break
            self._events += raw[line + 2 : line + 2 + size]
            at = line + 2 + size + 2
        self._raw = raw[at:]
        events = self._events.split(b"\n\n")
        self._events = events.pop()
        for event in events:
            kind = _note(event, now, self.latencies)
            self.count += kind is not None
            if kind == "done" and not self.finished.done():
                self.finished.set_result(self.count)
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._parse()
        if not self.finished.done():
            self.finished.set_result(self.count)


async def _follow_bare(base: str, path: str, latencies: list[float]) -> int:
    """Read one watcher's events to ``done`` over a bare connection; returns how many arrived."""
    host, port = base.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    _, watcher = await loop.create_connection(
        lambda: _BareWatcher(request, latencies), host, int(port)
    )
    return await watcher.finished


def sleeper(out: str, nap: float = 0.005) -> None:
    """The sleeper role: nap ``nap`` s again and again; on SIGTERM write how late each wake was.

    Run beside the watchers, it shows how long a process that has just woken
    waits for a core on this machine at that moment: a floor under any
    latency measured here.
    """
    import signal

    late: list[float] = []

    def stop(signum: int, frame: object) -> None:
        with open(out, "w") as file:
            file.write("\n".join(map(repr, late)))
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        began = time.perf_counter()
        time.sleep(nap)
        late.append(time.perf_counter() - began - nap)


@contextmanager
def wake_lateness() -> Iterator[list[float]]:
    """A sleeper process for the duration; the list gets its wake-up lateness in ms, sorted."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "late")
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fanout", "--role", "sleeper", "--out", out]
        )
        late: list[float] = []
        try:
            yield late
        finally:
            process.terminate()
            process.wait()
            with open(out) as file:
                late.extend(sorted(float(line) * 1000 for line in file.read().split()))


def send_floor(sockets: int, rounds: int = 200, size: int = 120) -> tuple[float, float]:
    """The kernel's part: CPU µs per ``send`` of one ``size``-byte frame to each of ``sockets``
    loopback connections (a hand loop, no event loop), and wall ms for the whole pass."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(sockets)
        readers = [socket.create_connection(listener.getsockname()) for _ in range(sockets)]
        writers = [listener.accept()[0] for _ in range(sockets)]
    frame = b"x" * size
    cpu = wall = 0.0
    try:
        for _ in range(rounds):
            began, began_cpu = time.perf_counter(), time.process_time()
            for writer in writers:
                writer.send(frame)
            wall += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            for reader in readers:
                reader.recv(65536)
    finally:
        for one in readers + writers:
            one.close()
    return cpu / (rounds * sockets) * 1e6, wall / rounds * 1e3


async def watchers(
    base: str, levels: list[int], items: int, rate: float, clients: list[str]
) -> None:
    header(f"(1) one stream to W watchers over SSE: {items:,} items at {rate:g}/s")
    print(f"{'client':>7} {'W':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'server CPU µs/item':>19} {'µs/event':>9} {'watchers µs/event':>18} "
          f"{'wake p99 ms':>12}  p99 < {TARGET_P99_MS:g} ms")  # fmt: skip
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for client in clients:
            for level in levels:
                async with session.get(f"{base}/cpu") as response:
                    cpu_before = (await response.json())["cpu"]
                body = {"input": "bench", "items": items, "rate": rate, "delay": 0.5 + level * 0.01}
                async with session.post(f"{base}/streams", json=body) as response:
                    created = await response.json()
                latencies: list[float] = []
                path = created["events"]
                mine = _cpu()
                if client == "bare":
                    runs = (_follow_bare(base, path, latencies) for _ in range(level))
                else:
                    runs = (_follow(session, f"{base}{path}", latencies) for _ in range(level))
                with wake_lateness() as late:
                    counts = await asyncio.gather(*runs)
                mine = _cpu() - mine
                async with session.get(f"{base}/cpu") as response:
                    cpu = (await response.json())["cpu"] - cpu_before
                assert all(count == items + 2 for count in counts), counts
                ms = sorted(latency * 1000 for latency in latencies)
                p99 = percentile(ms, 99)
                ok = verdict(p99 < TARGET_P99_MS) if level == max(levels) else ""
                events = items * level
                print(
                    f"{client:>7} {level:>5} {percentile(ms, 50):>8.2f} {p99:>8.2f} "
                    f"{ms[-1]:>8.2f} {cpu / items * 1e6:>19.1f} {cpu / events * 1e6:>9.1f} "
                    f"{mine / events * 1e6:>18.1f} {percentile(late, 99):>12.2f}  {ok}"
                )
    top = max(levels)
    per_send, whole = send_floor(top)
    print(
        f"floor, same run: a hand loop sending one 120-byte frame to each of {top} loopback "
        f"connections costs {per_send:.1f} µs of CPU per send, {whole:.2f} ms for the pass"
    )


# --- (2) Redis ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


async def _redis_cpu(client: Any) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _append_all(url: str, items: list[Item], key: str) -> tuple[float, float, float]:
    """Wall, producer CPU and redis-server CPU seconds to append ``items`` via ``BrokerSink``."""
    import redis.asyncio as aioredis
    from rxresponses.redis_stream import RedisBroker

    client = aioredis.Redis.from_url(url)
    broker = RedisBroker(client, prefix="bench:")
    try:
        sink = BrokerSink(broker, key)
        server = await _redis_cpu(client)
        wall, cpu = time.perf_counter(), _cpu()
        reactivex.from_iterable(items).subscribe(sink)
        await sink.flushed()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        return wall, cpu, await _redis_cpu(client) - server
    finally:
        await client.aclose()


def follow_redis(url: str, key: str, out: str) -> None:
    """The follower role: read ``key`` to ``done``; write each text item's lag (s) to ``out``."""
    from rxresponses.redis_stream import RedisBroker

    async def main() -> None:
        broker = RedisBroker.from_url(url, prefix="bench:")
        lags: list[float] = []
        await broker.last(key)  # connected
        print("ready", flush=True)
        try:
            async for batch in broker.follow(key, 0, 1.0):
                now = time.perf_counter()
                for _, kind, data in batch:
                    if kind == "text":
                        lags.append(now - float(_DECODE.decode(data).chunk))
        finally:
            await broker.close()
        with open(out, "w") as file:
            file.write("\n".join(map(repr, lags)))

    asyncio.run(main())


async def redis_path(events: int, lag_items: int, lag_rate: float) -> None:
    header(f"(2) Redis Streams: the {events:,}-event stream's items from one producer")
    data = build(events)
    items: list[Item] = []
    responses(from_bytes(data)).subscribe(items.append)
    with redis_server() as url:
        wall, cpu, server = await _append_all(url, items, "throughput")
        rate = len(items) / wall
        bound = len(items) / max(cpu, server)
        print(
            f"{len(items):,} items ({sum(len(msgspec.json.encode(i)) for i in items):,} bytes "
            f"of JSON) appended in {wall:.2f} s: {rate:,.0f} items/s "
            f"(target {TARGET_REDIS_ITEMS_PER_S:,}) {verdict(rate >= TARGET_REDIS_ITEMS_PER_S)}"
        )
        print(
            f"CPU per item: producer {cpu / len(items) * 1e6:.1f} µs, redis-server "
            f"{server / len(items) * 1e6:.1f} µs; the busier of the two bounds the rate at "
            f"{bound:,.0f} items/s on an otherwise idle machine"
        )
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "lags")
            follower = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.fanout", "--role", "redis-follower",
                 "--redis-url", url, "--key", "lag", "--out", out],
                stdout=subprocess.PIPE,
            )  # fmt: skip
            assert follower.stdout is not None
            follower.stdout.readline()  # connected
            await asyncio.sleep(0.2)  # and blocked in XREAD by now
            from rxresponses.redis_stream import RedisBroker

            broker = RedisBroker.from_url(url, prefix="bench:")
            sink = BrokerSink(broker, "lag")
            finished = asyncio.get_running_loop().create_future()
            stamped(lag_items, lag_rate, 0.0).subscribe(
                sink.on_next, sink.on_error, lambda: finished.set_result(None)
            )
            await finished
            await sink.flushed()
            await broker.close()
            follower.wait(60)
            with open(out) as file:
                lags = sorted(float(line) * 1000 for line in file.read().split())
        print(
            f"delivery lag at {lag_rate:,.0f} items/s ({lag_items:,} items, follower in "
            f"another process): p50 {percentile(lags, 50):.2f} ms, p99 "
            f"{percentile(lags, 99):.2f} ms, max {lags[-1]:.2f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,10,100", help="watcher counts, comma-separated")
    parser.add_argument("--items", type=int, default=1000, help="items per watched stream")
    parser.add_argument("--rate", type=float, default=100.0, help="items per second produced")
    parser.add_argument("--events", type=int, default=200_000, help="events of the Redis stream")
    parser.add_argument("--redis-items", type=int, default=20_000, help="items of the lag run")
    parser.add_argument("--redis-rate", type=float, default=5_000.0, help="lag run's items/s")
    parser.add_argument(
        "--clients",
        default="bare,aiohttp",
        help="watcher clients: bare (events stamped as bytes arrive), aiohttp (its HTTP client)",
    )
    parser.add_argument("--quick", action="store_true", help="300 items, a 20k-event stream")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis part")
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "server":
        serve(args.port_file)
        return 0
    if args.role == "sleeper":
        sleeper(args.out)
        return 0
    if args.role == "redis-follower":
        follow_redis(args.redis_url, args.key, args.out)
        return 0
    if args.quick:
        args.items, args.events, args.redis_items = 300, 20_000, 5_000
    levels = [int(level) for level in args.levels.split(",")]
    clients = args.clients.split(",")
    if not set(clients) <= {"bare", "aiohttp"}:
        parser.error("--clients: bare, aiohttp or both")

    print(f"benchmarks.fanout: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        port_file = os.path.join(folder, "port")
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fanout", "--role", "server",
             "--port-file", port_file],
        )  # fmt: skip
        try:
            for _ in range(400):
                if os.path.exists(port_file) and os.path.getsize(port_file):
                    break
                time.sleep(0.05)
            with open(port_file) as file:
                base = f"http://127.0.0.1:{file.read().strip()}"
            asyncio.run(watchers(base, levels, args.items, args.rate, clients))
        finally:
            server.terminate()
            server.wait()
    if not args.no_redis:
        asyncio.run(redis_path(args.events, args.redis_items, args.redis_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
