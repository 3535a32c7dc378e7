"""Items in Redis Streams, against a real ``redis-server`` on a free loopback port."""

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import msgspec
import pytest
import pytest_asyncio
import reactivex
import redis.asyncio as aioredis
from reactivex.subject import Subject
from rxresponses import Done, Item, Start, Text
from rxresponses.broker import BrokerSink
from rxresponses.redis_stream import RedisBroker, redis_items, redis_sink
from rxresponses.server import ReplayServer
from rxresponses.web import http_upstream, make_app

from tests.web_helpers import (
    DEMO,
    WAIT,
    create,
    demo_items,
    env,
    every_item_type,
    free_port,
    redis_server,
    served,
    watch,
    without_message_id,
)


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest_asyncio.fixture
async def client(redis_url: str) -> AsyncIterator["aioredis.Redis"]:
    connection = aioredis.Redis.from_url(redis_url)
    try:
        yield connection
    finally:
        await connection.aclose()


def as_json(items: list[Item]) -> list[dict[str, Any]]:
    return [msgspec.json.decode(msgspec.json.encode(item)) for item in items]


async def collect(client: "aioredis.Redis", key: str, after: int = 0) -> list[Item]:
    """Every item ``redis_items`` gives, to its completion."""
    got: list[Item] = []
    finished = asyncio.get_running_loop().create_future()
    redis_items(client, key, after=after, idle=0.1).subscribe(
        got.append,
        finished.set_exception,
        lambda: finished.set_result(None),
    )
    await asyncio.wait_for(finished, WAIT)
    return got


@pytest.mark.asyncio
async def test_the_sink_writes_what_the_source_reads_back_from_any_position(
    client: "aioredis.Redis",
) -> None:
    items = every_item_type()
    sink = redis_sink(client, "answer")
    reactivex.from_iterable(items).subscribe(sink)
    await sink.flushed()

    for after in range(len(items) + 1):
        assert await collect(client, "answer", after) == items[after:]
    entries: Any = await client.xrange("answer")
    entry_ids = [entry_id for entry_id, _ in entries]
    assert entry_ids == [f"0-{n}".encode() for n in range(1, len(items) + 1)]


@pytest.mark.asyncio
async def test_the_source_blocks_for_items_appended_later(client: "aioredis.Redis") -> None:
    subject: Subject[Item] = Subject()
    sink = redis_sink(client, "live")
    subject.subscribe(sink)
    subject.on_next(Start(message_id="m"))
    await sink.started()
    reading = asyncio.ensure_future(collect(client, "live"))
    await asyncio.sleep(0.3)  # the reader is blocked in XREAD by now
    assert not reading.done()
    subject.on_next(Text(chunk="later"))
    subject.on_next(Done(stop_reason="end_turn"))
    await sink.flushed()

    assert await reading == [
        Start(message_id="m"),
        Text(chunk="later"),
        Done(stop_reason="end_turn"),
    ]


@pytest.mark.asyncio
async def test_a_finished_stream_expires_and_an_unfinished_one_is_kept_longer(
    client: "aioredis.Redis",
) -> None:
    finished = redis_sink(client, "finished", keep_after_done=60)
    reactivex.from_iterable(every_item_type()).subscribe(finished)
    await finished.flushed()
    unfinished = redis_sink(client, "unfinished", keep_after_done=60)
    subject: Subject[Item] = Subject()
    subject.subscribe(unfinished)
    subject.on_next(Start(message_id="m"))
    await unfinished.started()

    assert 0 < await client.ttl("finished") <= 60
    assert await client.ttl("unfinished") > 60


@pytest.mark.asyncio
async def test_a_long_stream_is_trimmed_to_about_max_len(client: "aioredis.Redis") -> None:
    many: list[Item] = [Start(message_id="m"), *(Text(chunk=str(n)) for n in range(5000))]
    many.append(Done(None))
    broker = RedisBroker(client, prefix="", max_len=1000)
    sink = BrokerSink(broker, "long", max_batch=100)
    reactivex.from_iterable(many).subscribe(sink)
    await sink.flushed()

    assert 1000 <= await client.xlen("long") < 2000
    assert await broker.last("long") == (len(many), "done")


@pytest.mark.asyncio
async def test_read_gives_the_items_after_a_position_that_are_there_now(
    client: "aioredis.Redis",
) -> None:
    broker = RedisBroker(client, prefix="")
    items = every_item_type()
    sink = BrokerSink(broker, "s")
    reactivex.from_iterable(items).subscribe(sink)
    await sink.flushed()
    whole = await broker.read("s", 0, 1000)

    assert [position for position, _, _ in whole] == list(range(1, len(items) + 1))
    assert [msgspec.json.decode(data) for _, _, data in whole] == as_json(items)
    assert await broker.read("s", 3, 2) == whole[3:5]
    assert await broker.read("s", len(items), 10) == []
    assert await broker.read("nothing", 0, 10) == []


@pytest.mark.asyncio
async def test_a_position_is_never_written_twice(client: "aioredis.Redis") -> None:
    broker = RedisBroker(client, prefix="")
    await broker.append("s", 1, [("start", b'{"type":"start","message_id":"m"}')])

    with pytest.raises(aioredis.ResponseError):
        await broker.append("s", 1, [("start", b'{"type":"start","message_id":"x"}')])
    assert await client.xlen("s") == 1


@pytest.mark.asyncio
async def test_entries_of_unknown_item_types_are_skipped_by_the_source(
    client: "aioredis.Redis",
) -> None:
    broker = RedisBroker(client, prefix="")
    await broker.append(
        "s",
        1,
        [
            ("start", b'{"type":"start","message_id":"m"}'),
            ("hologram", b'{"type":"hologram","frames":3}'),
            ("done", b'{"type":"done","stop_reason":null,"last_sequence_number":null}'),
        ],
    )

    assert await collect(client, "s") == [Start(message_id="m"), Done(stop_reason=None)]


@pytest.mark.asyncio
async def test_web_app_on_redis_fans_one_request_out_to_identical_watchers(
    redis_url: str,
) -> None:
    async with ReplayServer([DEMO], events_per_second=300) as upstream:
        app = make_app(
            http_upstream(upstream.base_url, model="gpt-5", api_key=""),
            RedisBroker.from_url(redis_url, prefix="test:"),
        )
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            runs = await asyncio.gather(*(watch(session, base, created["id"]) for _ in range(5)))
            rest = await watch(session, base, created["id"], after=40)

    assert upstream.stats.requests == 1
    assert all(run == runs[0] for run in runs)
    assert [event.id for event in runs[0]] == list(range(1, len(demo_items()) + 1))
    assert runs[0][40:] == rest


# --- two processes on one Redis -----------------------------------------------------------


class WebProcess:
    """``python -m rxresponses web --redis URL`` on a free port."""

    def __init__(self, process: asyncio.subprocess.Process, base: str) -> None:
        self.process = process
        self.base = base

    @classmethod
    async def start(cls, redis_url: str, rate: float) -> "WebProcess":
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rxresponses", "web", "--port", "0", "--redis", redis_url,
            "--rate", str(rate),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
        )  # fmt: skip
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", banner)
        assert found, banner
        return cls(process, found.group(1))

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process.returncode is None:
            self.process.send_signal(how)
            await asyncio.wait_for(self.process.communicate(), WAIT)


@pytest.mark.asyncio
async def test_a_stream_started_on_one_process_is_watched_and_resumed_on_another(
    redis_url: str,
) -> None:
    first = await WebProcess.start(redis_url, rate=100)
    second = await WebProcess.start(redis_url, rate=100)
    try:
        async with aiohttp.ClientSession() as session:
            created = await create(session, first.base)
            on_second = await watch(session, second.base, created["id"])
            resumed = await watch(session, second.base, created["id"], after=25)
            await first.stop(signal.SIGKILL)  # after done: nothing may be lost
            late = await watch(session, second.base, created["id"])
    finally:
        await first.stop(signal.SIGKILL)
        await second.stop()

    assert without_message_id([event.data for event in on_second]) == without_message_id(
        demo_items()
    )
    assert on_second[25:] == resumed
    assert late == on_second


@pytest.mark.asyncio
async def test_cancel_sent_to_another_process_stops_the_upstream_request_it_holds(
    redis_url: str,
) -> None:
    first = await WebProcess.start(redis_url, rate=10)
    second = await WebProcess.start(redis_url, rate=10)
    try:
        async with aiohttp.ClientSession() as session:
            created = await create(session, first.base)
            watching = asyncio.ensure_future(watch(session, first.base, created["id"]))
            await asyncio.sleep(0.5)
            url = f"{second.base}/streams/{created['id']}/cancel"
            async with session.post(url) as response:
                assert response.status == 202
            events = await asyncio.wait_for(watching, WAIT)
    finally:
        await first.stop()
        await second.stop()

    assert [event.type for event in events[-2:]] == ["error", "done"]
    assert events[-2].data["kind"] == "cancelled"
    assert len(events) < len(demo_items())


@pytest.mark.asyncio
async def test_web_command_without_its_redis_exits_1_with_one_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxresponses", "web", "--port", "0",
        "--redis", f"redis://127.0.0.1:{free_port()}/0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), WAIT)

    assert process.returncode == 1
    assert out == b""
    assert len(err.decode().strip().splitlines()) == 1
