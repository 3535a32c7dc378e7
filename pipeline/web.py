"""``rxresponses web``: one model stream, many watchers, over HTTP server-sent events.

::

    POST /streams                {"input": "…"} → 201 {"id": "…", "events": "/streams/{id}/events"}
    GET  /streams/{id}/events    text/event-stream: one event per item, ends after done
    POST /streams/{id}/cancel    stops the upstream request (→ error "cancelled", done)
    GET  /                       the page: a prompt box and the answer as it streams
    GET  /streams/{id}           the page, watching one stream (a second tab)

``POST /streams`` starts one upstream request (``upstream(body)``, an
observable of items) and appends its items to a ``Broker`` as they come.
Every watcher reads the broker's log, so many watchers of one stream get
identical items from that one request: a watcher behind the end of the log
reads it at its own pace, and watchers at the end are fed by the stream's
one ``rxresponses.live.Hub``, which writes each new batch to all of them at
once. Each SSE event carries the item's position (``id:``, 1 for
``start``), its type (``event:``) and its JSON (``data:``, SPEC §1); a
reconnecting client sends ``Last-Event-ID`` and gets every item after it,
nothing repeated. A comment line goes out every ``heartbeat`` seconds
while a stream is idle, so proxies keep the connection open.

With ``MemoryBroker`` one process serves its own streams; with
``rxresponses.redis_stream.RedisBroker`` every process sharing the Redis
serves every stream, and a cancel request reaches the process that holds
the upstream request.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import HttpVersion11, web
from reactivex import Observable, abc

from .broker import Broker, BrokerSink, MemoryBroker
from .http import build_request, stream_responses
from .live import Hub, Watcher, frames
from .operators import Item

#: Makes the items of one upstream request from the ``POST /streams`` body.
Upstream = Callable[[Mapping[str, Any]], Observable[Item]]

DEFAULT_HEARTBEAT = 15.0
#: The most items a watcher catching up reads from the log at once.
CATCH_UP_COUNT = 1024
#: What the page's ``EventSource`` waits before reconnecting (the SSE ``retry:`` field).
DEFAULT_RETRY_MS = 1000
#: The most a ``POST /streams`` body may weigh.
MAX_BODY_BYTES = 1024 * 1024

_log = logging.getLogger(__name__)
_PAGES = {
    "page.html": "text/html",
    "page.css": "text/css",
    "page.js": "text/javascript",
}


def http_upstream(
    base_url: str,
    *,
    model: str,
    api_key: str | None = None,
    **options: Any,
) -> Upstream:
    """Items of ``POST {base_url}/responses`` for a body's ``input`` (``model``, ``tools``).

    ``options`` go to ``stream_responses`` (``idle_timeout``, ``session``, …).
    """

    def upstream(body: Mapping[str, Any]) -> Observable[Item]:
        request = build_request(
            body.get("model") or model, body["input"], tools=body.get("tools") or None
        )
        return stream_responses(request, base_url=base_url, api_key=api_key, **options)

    return upstream


@dataclass
class _Held:
    """An upstream request this process runs."""

    sink: BrokerSink
    subscription: abc.DisposableBase | None = None


@dataclass
class _State:
    upstream: Upstream
    broker: Broker
    heartbeat: float
    retry_ms: int
    held: dict[str, _Held] = field(default_factory=dict)
    watchers: dict[int, web.Request] = field(default_factory=dict)
    pages: dict[str, bytes] = field(default_factory=dict)
    writers: set["asyncio.Task[None]"] = field(default_factory=set)
    hubs: dict[str, Hub] = field(default_factory=dict)


_STATE = web.AppKey("rxresponses_web", _State)


def state_of(app: web.Application) -> _State:
    return app[_STATE]


def held_streams(app: web.Application) -> set[str]:
    """The ids of the streams whose upstream request this app is running."""
    return set(app[_STATE].held)


def drop_watchers(app: web.Application) -> int:
    """Close every open event connection (as a restart would); returns how many.

    Clients reconnect with ``Last-Event-ID`` and lose nothing.
    """
    state = app[_STATE]
    watchers = list(state.watchers.values())
    for request in watchers:
        if request.transport is not None:
            request.transport.close()
    for hub in state.hubs.values():
        hub.drop()
    return len(watchers)


def _page(state: _State, name: str) -> bytes:
    if name not in state.pages:
        state.pages[name] = (resources.files("rxresponses") / "data" / name).read_bytes()
    return state.pages[name]


def _json(status: int, body: Mapping[str, Any]) -> web.Response:
    return web.json_response(dict(body), status=status)


def _cancel_local(state: _State, stream_id: str) -> None:
    held = state.held.get(stream_id)
    if held is None:
        return  # another process holds it
    if held.subscription is not None:
        held.subscription.dispose()  # stops the upstream request
    held.sink.cancel("cancelled by a watcher")


async def _page_handler(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    return web.Response(
        body=_page(state, "page.html"),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _PAGES or name == "page.html":
        raise web.HTTPNotFound()
    state = request.app[_STATE]
    return web.Response(body=_page(state, name), content_type=_PAGES[name], charset="utf-8")


def _bad(message: str) -> web.Response:
    return _json(400, {"error": message})


async def _create(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    try:
        body = json.loads(await request.read())
    except ValueError:
        return _bad("the body is not JSON")
    if not isinstance(body, dict):
        return _bad("the body must be a JSON object")
    text = body.get("input")
    if not (isinstance(text, str) and text.strip()) and not isinstance(text, list):
        return _bad('"input" must be a non-empty string or a list of input items')
    if body.get("model") is not None and not isinstance(body["model"], str):
        return _bad('"model" must be a string')
    if body.get("tools") is not None and not isinstance(body["tools"], list):
        return _bad('"tools" must be a list')
    stream_id = uuid.uuid4().hex
    try:
        items = state.upstream(body)
    except (TypeError, ValueError, KeyError) as exc:
        return _bad(f"cannot build the request: {exc}")
    held = _Held(BrokerSink(state.broker, stream_id))
    state.held[stream_id] = held
    held.subscription = items.subscribe(held.sink)
    if held.sink.ended:  # a synchronous source ran to its end in subscribe
        held.subscription = None
    await held.sink.started()

    async def release() -> None:
        try:
            await held.sink.flushed()
        except Exception:
            _log.exception("stream %s: writing to the broker failed", stream_id)
        finally:
            state.held.pop(stream_id, None)

    task = asyncio.get_running_loop().create_task(release())
    state.writers.add(task)
    task.add_done_callback(state.writers.discard)
    events = f"/streams/{stream_id}/events"
    return web.json_response(
        {"id": stream_id, "events": events},
        status=201,
        headers={"Location": f"/streams/{stream_id}"},
    )


def _after(request: web.Request) -> int | None:
    text = request.headers.get("Last-Event-ID", "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 0 else None


async def _events(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    stream_id = request.match_info["id"]
    after = _after(request)
    if after is None:
        return _bad("Last-Event-ID must be an item position (a whole number)")
    last = await state.broker.last(stream_id)
    if last is None:
        return _json(404, {"error": "no such stream"})
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    if request.version >= HttpVersion11:
        response.enable_chunked_encoding()
    await response.prepare(request)
    state.watchers[id(request)] = request
    try:
        await response.write(b"retry: %d\n\n" % state.retry_ms)
        if not (last[1] == "done" and after >= last[0]):
            await _deliver(state, request, response, stream_id, after)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the watcher left; it may come back with Last-Event-ID
    finally:
        state.watchers.pop(id(request), None)
    return response


async def _deliver(
    state: _State,
    request: web.Request,
    response: web.StreamResponse,
    stream_id: str,
    position: int,
) -> None:
    """Send the items after ``position`` to the end of the stream.

    Items already in the log are read and written here, with the
    connection's own backpressure; at the live end the watcher joins the
    stream's hub, which writes new items to every live watcher at once, and
    comes back here if it falls behind.
    """
    while True:
        hub = state.hubs.get(stream_id)
        if hub is not None and position >= hub.position:
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the watcher left")
            watcher = Watcher(transport, response.chunked, position)
            hub.join(watcher)
            try:
                outcome = await watcher.outcome
            finally:
                hub.discard(watcher)
            if outcome == "ended":
                return
            if outcome == "gone":
                raise ConnectionResetError("the watcher left")
            position = watcher.sent  # behind: catch up from the log
            await request.writer.drain()
            continue
        live = hub.position if hub is not None else 0
        batch = await state.broker.read(stream_id, position, CATCH_UP_COUNT)
        if batch:
            await response.write(frames(batch))
            await request.writer.drain()
            position = batch[-1][0]
            if batch[-1][1] == "done":
                return
        elif live > position:
            position = live  # the log no longer holds the items in between (trimmed)
        elif stream_id not in state.hubs:
            Hub(state.broker, stream_id, position, state.heartbeat, state.hubs)


async def _cancel(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    stream_id = request.match_info["id"]
    last = await state.broker.last(stream_id)
    if last is None:
        return _json(404, {"error": "no such stream"})
    if last[1] == "done":
        return _json(409, {"error": "the stream has ended"})
    await state.broker.request_cancel(stream_id)
    return _json(202, {"id": stream_id})


def make_app(
    upstream: Upstream,
    broker: Broker | None = None,
    *,
    heartbeat: float = DEFAULT_HEARTBEAT,
    retry_ms: int = DEFAULT_RETRY_MS,
) -> web.Application:
    """The web app: streams started by ``upstream``, kept in ``broker`` (in memory by default).

    The app starts the broker and, when it stops, cancels the upstream
    requests it still runs (their watchers get ``cancelled`` and ``done``)
    and closes the broker.
    """
    if heartbeat <= 0:
        raise ValueError(f"heartbeat must be positive, not {heartbeat}")
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    state = _State(upstream, broker or MemoryBroker(), heartbeat, retry_ms)
    app[_STATE] = state

    async def start(app: web.Application) -> None:
        await state.broker.start(lambda stream_id: _cancel_local(state, stream_id))

    async def shutdown(app: web.Application) -> None:
        drop_watchers(app)

    async def stop(app: web.Application) -> None:
        for held in list(state.held.values()):
            if held.subscription is not None:
                held.subscription.dispose()
            held.sink.cancel("the server stopped")
        if state.writers:
            await asyncio.wait(state.writers, timeout=5.0)
        for hub in list(state.hubs.values()):
            await hub.close()
        await state.broker.close()

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(stop)
    app.router.add_get("/", _page_handler)
    app.router.add_get("/page/{name}", _asset)
    app.router.add_post("/streams", _create)
    app.router.add_get("/streams/{id}", _page_handler)
    app.router.add_get("/streams/{id}/events", _events)
    app.router.add_post("/streams/{id}/cancel", _cancel)
    return app


__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_RETRY_MS",
    "Upstream",
    "drop_watchers",
    "held_streams",
    "http_upstream",
    "make_app",
    "state_of",
]
