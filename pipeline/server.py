"""An embedded replay server: recorded event streams over real HTTP, with faults on demand.

``POST /v1/responses`` (and ``/v1/chat/completions``, ``/v1/messages``, for
recordings of those wires) answers with the next recording (round-robin) as
``text/event-stream``, event by event at ``events_per_second`` (``None``:
as fast as the socket takes it, in large writes), or each event at its own
time with ``schedule`` (seconds after the request arrived, one per event:
a known time to first token and gap between tokens, for load tests).
With ``"background": true`` in the request, the events carry a
``sequence_number`` (added where the recording has none) and ``GET
/v1/responses/{id}?stream=true&starting_after=N`` serves the same response
again from event N+1, as the Responses API does for background responses.
Faults, for tests, benchmarks and the demo:

- ``status`` — answer with that HTTP status and a JSON error body instead
  (a list: one status, or ``None``, for each request in turn);
  (``retry_after`` sets ``Retry-After``; ``headers`` adds any others);
- ``first_byte_delay`` — wait that long before the response headers;
- ``stall_after`` / ``stall_seconds`` — go silent after N events;
- ``close_after`` — drop the connection after N events (a list: one N, or
  ``None``, for each request in turn, the rest undisturbed);
- ``keep_open_after_end`` — send everything, then hold the connection open
  until the client leaves.

::

    async with ReplayServer(["stream.sse"], events_per_second=50) as server:
        items = stream_responses(body, base_url=server.base_url)

``server.stats`` counts requests and the clients that left before their
response was finished (``await server.stats.wait_for_disconnect()``).
"""

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

#: About what a fast model streams: a few dozen tokens, so events, per second.
DEFAULT_EVENTS_PER_SECOND = 60.0
#: Unpaced, events are written in chunks of about this many bytes.
UNPACED_WRITE_BYTES = 64 * 1024

#: How many requests ``ReplayStats.received`` keeps.
MAX_RECEIVED = 1024

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def split_events(data: bytes) -> list[bytes]:
    """The recording cut after each blank line; the pieces add up to ``data``."""
    events: list[bytes] = []
    start = 0
    for found in _EVENT_END.finditer(data):
        events.append(data[start : found.end()])
        start = found.end()
    if start < len(data):
        events.append(data[start:])
    return events


@dataclass
class ReceivedRequest:
    """What one request to ``/v1/responses`` carried."""

    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:  # headers may hold a bearer token
        return f"ReceivedRequest(headers=<{len(self.headers)}>, body=<{len(self.body)} bytes>)"


@dataclass
class ReplayStats:
    """What the server saw; shared by every connection of one app."""

    requests: int = 0
    #: Responses being written right now.
    active: int = 0
    #: Responses written to the end (keep-open ones count once the client left).
    completed: int = 0
    #: Clients that went away before their response was finished.
    disconnects: int = 0
    #: Connections dropped on purpose (``close_after``).
    dropped: int = 0
    #: The last ``MAX_RECEIVED`` requests.
    received: deque[ReceivedRequest] = field(default_factory=lambda: deque(maxlen=MAX_RECEIVED))
    #: ``time.monotonic()`` of each disconnect and of each response's last byte.
    disconnect_times: list[float] = field(default_factory=list)
    last_byte_times: list[float] = field(default_factory=list)
    _changed: asyncio.Condition | None = field(default=None, repr=False)
    _closing: bool = field(default=False, repr=False)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    async def wait_for(self, predicate: Callable[["ReplayStats"], object], timeout: float) -> bool:
        """Wait until ``predicate(stats)`` holds; ``False`` if ``timeout`` passes first."""
        condition = self._condition()
        try:
            async with asyncio.timeout(timeout), condition:
                await condition.wait_for(lambda: bool(predicate(self)))
        except TimeoutError:
            return bool(predicate(self))
        return True

    async def wait_for_disconnect(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``count`` clients in all have left early; ``False`` on timeout."""
        return await self.wait_for(lambda s: s.disconnects >= count, timeout)

    async def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no response is being written; ``False`` on timeout."""
        return await self.wait_for(lambda s: s.active == 0, timeout)


_STATS = web.AppKey("replay_stats", ReplayStats)


def _load(recording: str | Path | bytes) -> bytes:
    if isinstance(recording, bytes):
        return recording
    return Path(recording).read_bytes()


def _nth(setting: int | Sequence[int | None] | None, request: int) -> int | None:
    """A fault for every request, or the one for this request when it is a list."""
    if setting is None or isinstance(setting, int):
        return setting
    return setting[request] if request < len(setting) else None


def _int_or(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _asks_background(body: bytes) -> bool:
    try:
        request = json.loads(body)
    except ValueError:
        return False
    return isinstance(request, dict) and request.get("background") is True


def _event_json(event: bytes) -> Any:
    """The JSON of an event's ``data:`` lines, or ``None``."""
    data = b"\n".join(
        line[5:].removeprefix(b" ") for line in event.splitlines() if line.startswith(b"data:")
    )
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _response_id(events: Sequence[bytes]) -> str | None:
    for event in events:
        document = _event_json(event)
        if isinstance(document, dict) and isinstance(document.get("response"), dict):
            found = document["response"].get("id")
            if isinstance(found, str) and found:
                return found
    return None


def _numbered(events: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """Each event with its ``sequence_number``, added (as its position) where it has none."""
    numbered: list[tuple[int, bytes]] = []
    for position, event in enumerate(events):
        document = _event_json(event)
        if not isinstance(document, dict):
            continue  # a comment or a keep-alive: not part of the response
        number = document.get("sequence_number")
        if not isinstance(number, int):
            number = position
            document["sequence_number"] = number
            event = b"data: " + json.dumps(document).encode() + b"\n\n"
        numbered.append((number, event))
    return numbered


def _error_body(status: int) -> bytes:
    """An OpenAI-shaped error body for ``status``."""
    if 200 <= status < 300:
        return json.dumps({"id": "resp_replay", "object": "response", "output": []}).encode()
    known: dict[int, tuple[str, str, str | None]] = {
        401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
        404: ("The model does not exist.", "invalid_request_error", "model_not_found"),
        429: (
            "Rate limit reached for requests. Please try again in 1s.",
            "requests",
            "rate_limit_exceeded",
        ),
        500: ("The server had an error while processing your request.", "server_error", None),
    }
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    message, kind, code = known.get(status, (f"replay server: {phrase}", "server_error", None))
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


def make_app(
    recordings: Sequence[str | Path | bytes],
    *,
    events_per_second: float | None = DEFAULT_EVENTS_PER_SECOND,
    close_after: int | Sequence[int | None] | None = None,
    stall_after: int | None = None,
    stall_seconds: float = 0.0,
    status: int | Sequence[int | None] | None = None,
    retry_after: str | float | None = None,
    error_body: bytes | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    first_byte_delay: float = 0.0,
    keep_open_after_end: bool = False,
    schedule: Sequence[float] | None = None,
    stats: ReplayStats | None = None,
) -> web.Application:
    """An app that replays ``recordings`` at ``POST /v1/responses`` (see the module docstring).

    Run it with ``ReplayServer``, ``web.AppRunner`` or pytest-aiohttp's
    ``aiohttp_server``; ``stats_of(app)`` gives its ``ReplayStats``. Client
    disconnects are seen at once when the runner cancels handlers on
    disconnect (``handler_cancellation=True``, as ``ReplayServer`` and
    aiohttp's test server do), else at the next write.
    """
    if not recordings:
        raise ValueError("at least one recording is needed")
    if events_per_second is not None and events_per_second <= 0:
        raise ValueError(f"events_per_second must be positive, not {events_per_second}")
    streams = [split_events(_load(recording)) for recording in recordings]
    if schedule is not None and any(len(schedule) < len(events) for events in streams):
        raise ValueError("schedule needs one time for each event of every recording")
    the_stats = stats if stats is not None else ReplayStats()
    if isinstance(error_body, Mapping):
        error_payload: bytes | None = json.dumps(error_body).encode()
    else:
        error_payload = error_body
    extra_headers = dict(headers or {})
    if retry_after is not None:
        extra_headers["Retry-After"] = (
            f"{retry_after:g}" if isinstance(retry_after, float | int) else retry_after
        )

    background: dict[str, list[tuple[int, bytes]]] = {}  # response id → numbered events

    async def respond(request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        the_stats.received.append(ReceivedRequest(dict(request.headers), body))
        events = streams[the_stats.requests % len(streams)]
        if request.method == "GET":
            numbered = background.get(request.match_info["id"])
            if numbered is None or request.query.get("stream") != "true":
                the_stats.requests += 1
                return web.Response(
                    status=404, body=_error_body(404), content_type="application/json"
                )
            after = _int_or(request.query.get("starting_after"), -1)
            events = [event for number, event in numbered if number > after]
        elif _asks_background(body):
            numbered = _numbered(events)
            background.setdefault(_response_id(events) or "resp_replay", numbered)
            events = [event for _, event in numbered]
        cut_at = _nth(close_after, the_stats.requests)
        status_now = _nth(status, the_stats.requests)
        the_stats.requests += 1
        the_stats.active += 1
        finished = False
        try:
            if first_byte_delay > 0:
                await asyncio.sleep(first_byte_delay)
            if status_now is not None:
                finished = True
                return web.Response(
                    status=status_now,
                    body=error_payload if error_payload is not None else _error_body(status_now),
                    content_type="application/json",
                    headers=extra_headers,
                )
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/event-stream; charset=utf-8",
                    "Cache-Control": "no-cache",
                    "X-Accel-Buffering": "no",
                    **extra_headers,
                }
            )
            await response.prepare(request)
            dropped = await _send(request, response, events, arrived, cut_at)
            if dropped:
                the_stats.dropped += 1
                finished = True
                return response
            the_stats.last_byte_times.append(time.monotonic())
            if keep_open_after_end:
                await _hold_open(request)
            else:
                finished = True
            return response
        except ConnectionResetError:  # the client went away mid-write
            return web.Response()  # nothing more can be sent; aiohttp drops it
        finally:
            the_stats.active -= 1
            if finished:
                the_stats.completed += 1
            elif not the_stats._closing:
                the_stats.disconnects += 1
                the_stats.disconnect_times.append(time.monotonic())
            await asyncio.shield(the_stats._notify())

    async def _send(
        request: web.Request,
        response: web.StreamResponse,
        events: list[bytes],
        arrived: float,
        close_after: int | None,
    ) -> bool:
        """Write the events, with the faults asked for; ``True`` if the connection was dropped.

        A ``schedule`` counts from the request's arrival (the first byte delay
        included), so the server's own work is inside the times it was given.
        """
        count = len(events)
        cut = count if close_after is None else min(close_after, count)
        stall = None if stall_after is None else min(stall_after, cut)
        started = arrived if schedule is not None else time.monotonic()
        paused = 0.0
        index = 0
        while index < cut:
            if index == stall and stall_seconds > 0:
                await asyncio.sleep(stall_seconds)
                paused += stall_seconds
            if events_per_second is None and schedule is None:
                end = cut if stall is None or stall <= index else stall
                batch = bytearray()
                while index < end and len(batch) < UNPACED_WRITE_BYTES:
                    batch += events[index]
                    index += 1
                await response.write(bytes(batch))
            else:
                if schedule is not None:
                    offset = schedule[index]
                else:
                    assert events_per_second is not None
                    offset = index / events_per_second
                due = started + paused + offset
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await response.write(events[index])
                index += 1
        if stall == cut and stall_seconds > 0:
            await asyncio.sleep(stall_seconds)
        if cut < count:
            # Drop the connection mid-body: the client never sees the chunked end.
            transport = request.transport
            if transport is not None:
                transport.abort()
            return True
        return False

    async def _hold_open(request: web.Request) -> None:
        while not the_stats._closing:
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(0.02)

    app = web.Application()
    app[_STATS] = the_stats
    for path in ("/v1/responses", "/v1/chat/completions", "/v1/messages"):
        app.router.add_post(path, respond)
    app.router.add_get("/v1/responses/{id}", respond)
    return app


def stats_of(app: web.Application) -> ReplayStats:
    """The ``ReplayStats`` of an app made by ``make_app``."""
    return app[_STATS]


class ReplayServer:
    """``make_app`` served on ``host:port`` (``port=0``: a free one) for an ``async with`` block.

    ``base_url`` (``http://127.0.0.1:PORT/v1``) is what ``http_source`` takes.
    """

    def __init__(
        self,
        recordings: Sequence[str | Path | bytes],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        events_per_second: float | None = DEFAULT_EVENTS_PER_SECOND,
        close_after: int | Sequence[int | None] | None = None,
        stall_after: int | None = None,
        stall_seconds: float = 0.0,
        status: int | Sequence[int | None] | None = None,
        retry_after: str | float | None = None,
        error_body: bytes | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        first_byte_delay: float = 0.0,
        keep_open_after_end: bool = False,
        schedule: Sequence[float] | None = None,
    ) -> None:
        self.stats = ReplayStats()
        self.app = make_app(
            recordings,
            events_per_second=events_per_second,
            close_after=close_after,
            stall_after=stall_after,
            stall_seconds=stall_seconds,
            status=status,
            retry_after=retry_after,
            error_body=error_body,
            headers=headers,
            first_byte_delay=first_byte_delay,
            keep_open_after_end=keep_open_after_end,
            schedule=schedule,
            stats=self.stats,
        )
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``."""
        if self._runner is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}/v1"

    async def start(self) -> None:
        runner = web.AppRunner(
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple):
                self._port = int(address[1])
                break

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self.stats._closing = True
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not started"
        return f"<ReplayServer {where} requests={self.stats.requests}>"


__all__ = [
    "DEFAULT_EVENTS_PER_SECOND",
    "ReceivedRequest",
    "ReplayServer",
    "ReplayStats",
    "make_app",
    "split_events",
    "stats_of",
]
