"""``rxresponses web`` over real HTTP: the replay server upstream, the app on 127.0.0.1, aiohttp."""

import asyncio
import re
import signal
import sys
from typing import Any

import aiohttp
import msgspec
import pytest
import reactivex
from reactivex import Observable
from reactivex.subject import Subject
from rxresponses import Done, Item, Start, Text
from rxresponses.broker import BrokerSink, MemoryBroker
from rxresponses.server import ReplayServer
from rxresponses.web import drop_watchers, held_streams, http_upstream, make_app, state_of

from tests.web_helpers import (
    DEMO,
    WAIT,
    bare_watch,
    create,
    demo_items,
    env,
    every_item_type,
    fixed_upstream,
    parse_sse,
    served,
    watch,
    without_message_id,
)


def as_json(items: list[Item]) -> list[dict[str, Any]]:
    return [msgspec.json.decode(msgspec.json.encode(item)) for item in items]


@pytest.mark.asyncio
async def test_a_stream_gives_one_event_per_item_numbered_from_1_and_ends_after_done() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            events = await watch(session, base, created["id"])

    assert created["events"] == f"/streams/{created['id']}/events"
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert [event.type for event in events] == [event.data["type"] for event in events]
    assert without_message_id([event.data for event in events]) == without_message_id(demo_items())


@pytest.mark.asyncio
async def test_every_item_type_of_the_spec_goes_out_as_its_own_event_unchanged() -> None:
    items = every_item_type()
    async with served(make_app(fixed_upstream(items))) as base, aiohttp.ClientSession() as s:
        created = await create(s, base)
        events = await watch(s, base, created["id"])

    assert [event.data for event in events] == as_json(items)
    assert [event.type for event in events] == [item["type"] for item in as_json(items)]


@pytest.mark.asyncio
async def test_last_event_id_continues_right_after_it_for_every_position() -> None:
    items = every_item_type()
    async with served(make_app(fixed_upstream(items))) as base, aiohttp.ClientSession() as s:
        created = await create(s, base)
        whole = await watch(s, base, created["id"])
        for seen in range(len(whole) + 1):
            rest = await watch(s, base, created["id"], after=seen)

            assert whole[:seen] + rest == whole


@pytest.mark.asyncio
async def test_a_watcher_cut_off_mid_stream_resumes_with_nothing_repeated_or_lost() -> None:
    async with ReplayServer([DEMO], events_per_second=200) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            seen: list[int] = []
            url = f"{base}{created['events']}"
            while not seen or seen[-1] != len(demo_items()):
                headers = {"Last-Event-ID": str(seen[-1])} if seen else {}
                try:
                    async with session.get(url, headers=headers) as response:
                        async for line in response.content:
                            if line.startswith(b"id: "):
                                seen.append(int(line[4:]))
                                if len(seen) % 10 == 0:
                                    drop_watchers(app)  # as a restart would
                except aiohttp.ClientPayloadError:
                    pass

    assert seen == list(range(1, len(demo_items()) + 1))


@pytest.mark.asyncio
async def test_many_watchers_get_identical_items_from_one_upstream_request() -> None:
    async with ReplayServer([DEMO], events_per_second=300) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            runs = await asyncio.gather(*(watch(session, base, created["id"]) for _ in range(8)))

    assert upstream.stats.requests == 1
    assert all(run == runs[0] for run in runs)
    assert runs[0][0].type == "start"
    assert runs[0][-1].type == "done"


def live_upstream(subject: Subject[Item]) -> Any:
    """An upstream that sends ``start``, then whatever the test pushes into ``subject``."""

    def upstream(body: Any) -> Observable[Item]:
        return reactivex.concat(reactivex.of(Start(message_id="m")), subject)

    return upstream


async def until(condition: Any) -> None:
    """Wait (briefly polling) until ``condition()`` holds."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)


def live_watchers(app: Any, stream_id: str) -> int:
    hub = state_of(app).hubs.get(stream_id)
    return 0 if hub is None else hub.live


@pytest.mark.asyncio
async def test_a_watcher_that_stops_reading_holds_no_one_up_and_later_gets_every_item() -> None:
    subject: Subject[Item] = Subject()
    app = make_app(live_upstream(subject))
    big = "x" * 32_768
    count = 400  # 13 MB: far more than the sockets between server and watcher hold
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        slow = await bare_watch(base, created["id"], receive_buffer=4096)
        fast = asyncio.ensure_future(watch(session, base, created["id"]))
        await until(lambda: live_watchers(app, created["id"]) == 2)
        for n in range(count):
            subject.on_next(Text(chunk=f"{n} {big}"))
            await asyncio.sleep(0.001)  # one batch each
        await until(lambda: state_of(app).hubs[created["id"]].position == count + 1)
        moved_off = live_watchers(app, created["id"]) == 1
        subject.on_next(Done(stop_reason="end_turn"))
        events = await fast
        late = parse_sse((await slow.body()).decode())[0]

    assert moved_off  # the reader that stopped no longer holds the live path
    assert [event.id for event in events] == list(range(1, count + 3))
    assert late == events


@pytest.mark.asyncio
async def test_items_that_arrive_together_reach_a_live_watcher_in_one_write() -> None:
    subject: Subject[Item] = Subject()
    app = make_app(live_upstream(subject))
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        watcher = await bare_watch(base, created["id"])
        await until(lambda: live_watchers(app, created["id"]) == 1)
        for n in range(5):
            subject.on_next(Text(chunk=str(n)))
        subject.on_next(Done(stop_reason="end_turn"))
        chunks = await watcher.chunks()

    assert chunks[0] == b"retry: 1000\n\n"
    assert [event.type for event in parse_sse(chunks[1].decode())[0]] == ["start"]
    assert [event.id for event in parse_sse(chunks[2].decode())[0]] == list(range(2, 8))
    assert len(chunks) == 3


@pytest.mark.asyncio
async def test_watchers_joining_a_live_stream_with_last_event_id_get_exactly_the_rest() -> None:
    subject: Subject[Item] = Subject()
    app = make_app(live_upstream(subject))
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        for n in range(5):
            subject.on_next(Text(chunk=str(n)))
        first = asyncio.ensure_future(watch(session, base, created["id"]))
        await until(lambda: live_watchers(app, created["id"]) == 1)
        joining = [
            asyncio.ensure_future(watch(session, base, created["id"], after=after))
            for after in range(7)
        ]
        await until(lambda: live_watchers(app, created["id"]) == 8)
        for n in range(5, 10):
            subject.on_next(Text(chunk=str(n)))
            await asyncio.sleep(0.01)
        subject.on_next(Done(stop_reason="end_turn"))
        whole = await first
        rests = await asyncio.gather(*joining)

    assert [event.id for event in whole] == list(range(1, 13))
    for after, rest in enumerate(rests):
        assert rest == whole[after:]


@pytest.mark.asyncio
async def test_watchers_arriving_at_different_moments_of_a_stream_get_identical_items() -> None:
    async with ReplayServer([DEMO], events_per_second=400) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            runs = []
            for _ in range(30):
                runs.append(asyncio.ensure_future(watch(session, base, created["id"])))
                await asyncio.sleep(0.005)
            results = await asyncio.gather(*runs)

    assert upstream.stats.requests == 1
    assert [event.id for event in results[0]] == list(range(1, len(demo_items()) + 1))
    assert all(result == results[0] for result in results)


@pytest.mark.asyncio
async def test_an_http_1_0_watcher_gets_the_events_unchunked_and_the_connection_closes() -> None:
    items = every_item_type()
    async with served(make_app(fixed_upstream(items))) as base, aiohttp.ClientSession() as s:
        created = await create(s, base)
        whole = await watch(s, base, created["id"])
        old = await bare_watch(base, created["id"], version="1.0")
        body = await old.body()

    assert body.startswith(b"retry: ")
    assert parse_sse(body.decode())[0] == whole


@pytest.mark.asyncio
async def test_a_stream_stops_being_followed_when_its_last_watcher_has_left() -> None:
    subject: Subject[Item] = Subject()
    app = make_app(live_upstream(subject), heartbeat=0.05)
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        leaving = await bare_watch(base, created["id"])
        await until(lambda: live_watchers(app, created["id"]) == 1)
        leaving.writer.close()
        await until(lambda: created["id"] not in state_of(app).hubs)
        back = asyncio.ensure_future(watch(session, base, created["id"], after=1))
        await until(lambda: live_watchers(app, created["id"]) == 1)
        subject.on_next(Done(stop_reason="end_turn"))
        events = await back

    assert [event.type for event in events] == ["done"]


@pytest.mark.asyncio
async def test_an_idle_stream_sends_heartbeat_comments() -> None:
    subject: Subject[Item] = Subject()

    def upstream(body: Any) -> Observable[Item]:
        return reactivex.concat(reactivex.of(Start(message_id="m")), subject)

    app = make_app(upstream, heartbeat=0.05)
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        async with session.get(f"{base}{created['events']}") as response:
            text = ""
            while text.count(": heartbeat") < 2:
                text += (await asyncio.wait_for(response.content.readany(), WAIT)).decode()
            subject.on_next(Text(chunk="late"))
            subject.on_next(Done(stop_reason="end_turn"))
            text += await asyncio.wait_for(response.text(), WAIT)

    events, comments = parse_sse(text)
    assert comments.count("heartbeat") >= 2
    assert [event.type for event in events] == ["start", "text", "done"]


@pytest.mark.asyncio
async def test_unknown_streams_are_404() -> None:
    app = make_app(fixed_upstream(every_item_type()))
    async with served(app) as base, aiohttp.ClientSession() as session:
        async with session.get(f"{base}/streams/nope/events") as events:
            assert events.status == 404
        async with session.post(f"{base}/streams/nope/cancel") as cancel:
            assert cancel.status == 404


@pytest.mark.asyncio
async def test_cancel_stops_the_upstream_request_and_watchers_get_cancelled_then_done() -> None:
    async with ReplayServer([DEMO], events_per_second=20) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            created = await create(session, base)
            watching = asyncio.ensure_future(watch(session, base, created["id"]))
            await upstream.stats.wait_for(lambda stats: stats.active == 1, WAIT)
            async with session.post(f"{base}/streams/{created['id']}/cancel") as response:
                assert response.status == 202
            events = await watching
            assert await upstream.stats.wait_for_disconnect(timeout=WAIT)
            assert held_streams(app) == set()
            async with session.post(f"{base}/streams/{created['id']}/cancel") as again:
                assert again.status == 409

    assert [event.type for event in events[-2:]] == ["error", "done"]
    assert events[-2].data["kind"] == "cancelled"
    assert events[-2].data["retryable"] is False
    assert [event.type for event in events].count("done") == 1
    assert len(events) < len(demo_items())


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b"{}", b'{"input": ""}', b'{"input": "hi", "model": 5}'],
)
async def test_a_bad_request_body_is_400(body: bytes) -> None:
    app = make_app(fixed_upstream(every_item_type()))
    async with served(app) as base, aiohttp.ClientSession() as session:
        response = await session.post(f"{base}/streams", data=body)
        assert response.status == 400
        assert "error" in await response.json()


@pytest.mark.asyncio
async def test_a_last_event_id_that_is_not_a_position_is_400() -> None:
    app = make_app(fixed_upstream(every_item_type()))
    async with served(app) as base, aiohttp.ClientSession() as session:
        created = await create(session, base)
        url = f"{base}{created['events']}"
        async with session.get(url, headers={"Last-Event-ID": "abc"}) as response:
            assert response.status == 400


@pytest.mark.asyncio
async def test_the_page_and_its_script_are_served_for_new_and_watched_streams() -> None:
    app = make_app(fixed_upstream(every_item_type()))
    async with served(app) as base, aiohttp.ClientSession() as session:
        for path in ("/", "/streams/any-id"):
            async with session.get(base + path) as page:
                assert page.status == 200
                assert page.content_type == "text/html"
                assert "/page/page.js" in await page.text()
        async with session.get(f"{base}/page/page.js") as script:
            assert script.status == 200
            assert "Last-Event-ID" in await script.text()
        async with session.get(f"{base}/page/other.js") as missing:
            assert missing.status == 404


@pytest.mark.asyncio
async def test_the_request_body_reaches_the_upstream() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="default-model", api_key=""))
        async with served(app) as base, aiohttp.ClientSession() as session:
            tool = {"type": "function", "name": "f", "parameters": {"type": "object"}}
            await create(session, base, input="Which city?", model="m2", tools=[tool])
            await create(session, base, input="Again")

    sent = [request.json() for request in upstream.stats.received]
    assert (sent[0]["input"], sent[0]["model"], sent[0]["tools"]) == ("Which city?", "m2", [tool])
    assert (sent[1]["input"], sent[1]["model"], "tools" in sent[1]) == (
        "Again",
        "default-model",
        False,
    )


@pytest.mark.asyncio
async def test_stopping_the_server_ends_running_streams_with_cancelled_and_done() -> None:
    broker = MemoryBroker()
    async with ReplayServer([DEMO], events_per_second=20) as upstream:
        app = make_app(http_upstream(upstream.base_url, model="gpt-5", api_key=""), broker)
        async with served(app) as base, aiohttp.ClientSession() as session:
            await create(session, base)
        assert await upstream.stats.wait_for_disconnect(timeout=WAIT)


@pytest.mark.asyncio
async def test_a_cancelled_sink_ends_the_log_with_cancelled_and_done_and_drops_the_rest() -> None:
    broker = MemoryBroker()
    sink = BrokerSink(broker, "s")
    subject: Subject[Item] = Subject()
    subject.subscribe(sink)
    subject.on_next(Start(message_id="m"))
    assert sink.cancel("the server stopped")
    subject.on_next(Text(chunk="too late"))
    await sink.flushed()
    entries = [entry async for batch in broker.follow("s", 0, 1.0) for entry in batch]

    assert [kind for _, kind, _ in entries] == ["start", "error", "done"]
    assert msgspec.json.decode(entries[1][2])["kind"] == "cancelled"
    assert not sink.cancel()


@pytest.mark.asyncio
async def test_a_source_that_completes_without_done_still_ends_the_log_with_done() -> None:
    broker = MemoryBroker()
    sink = BrokerSink(broker, "s")
    items: list[Item] = [Start(message_id="m"), Text(chunk="cut")]
    reactivex.from_iterable(items).subscribe(sink)
    await sink.flushed()
    entries = [entry async for batch in broker.follow("s", 0, 1.0) for entry in batch]

    assert [kind for _, kind, _ in entries] == ["start", "text", "error", "done"]
    assert msgspec.json.decode(entries[2][2])["kind"] == "stream_interrupted"


# --- the command ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_web_command_with_no_options_serves_the_bundled_answer_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxresponses", "web", "--port", "0", "--rate", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", banner)
        assert found, banner
        base = found.group(1)
        async with aiohttp.ClientSession() as session:
            created = await create(session, base)
            events = await watch(session, base, created["id"])
        assert without_message_id([event.data for event in events]) == without_message_id(
            demo_items()
        )
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), WAIT)
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "argument", [["--upstream", "ftp://x"], ["--redis", "http://x"], ["--port", "-1"]]
)
async def test_web_command_bad_arguments_exit_2_with_one_line(argument: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxresponses", "web", *argument,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), WAIT)

    assert process.returncode == 2
    assert out == b""
    assert len(err.decode().strip().splitlines()) == 1
