"""Shared by the web, Redis and browser tests: a served app, an SSE reader, a real Redis."""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import reactivex
from aiohttp import web
from reactivex import Observable
from rxresponses import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    Start,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
    Usage,
)
from rxresponses._http_cli import demo_recording_path

from tests.helpers import run_items

DEMO = Path(demo_recording_path())
#: Generous bound for anything that should happen "at once" on a loaded machine.
WAIT = 20.0


def demo_items() -> list[dict[str, Any]]:
    """The bundled recording's items as JSON objects (what every stream of it gives)."""
    return [json.loads(line) for line in _lines(run_items(DEMO.read_bytes()))]


def _lines(items: Sequence[Item]) -> list[str]:
    import msgspec

    return [msgspec.json.encode(item).decode() for item in items]


def without_message_id(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "message_id": "-"} if item["type"] == "start" else item for item in items]


def every_item_type() -> list[Item]:
    """One stream holding every item type of SPEC §1, in an order the invariants allow."""
    search = ToolCall(
        id="ws_1",
        call_id=None,
        name="web_search",
        arguments='{"query":"Lisbon weather"}',
        kind="builtin",
        partial=False,
        provider_executed=True,
    )
    weather = ToolCall(
        id="fc_1",
        call_id="call_1",
        name="get_weather",
        arguments='{"city":"Kyoto"}',
        kind="function",
        partial=False,
    )
    return [
        Start(message_id="m-1"),
        Metadata(response_id="resp_1", model="gpt-5"),
        PartStart(kind="reasoning_summary", index=0, id="rs_1"),
        Reasoning(chunk="Compare the two cities."),
        EncryptedReasoning(id="rs_1", content="gAAAA-opaque"),
        PartStart(kind="text", index=1, id="msg_1", phase="commentary"),
        Text(chunk="Let me look that up."),
        ToolRequestStart(id="ws_1", name="web_search", provider_executed=True),
        ToolRequestArg(id="ws_1", chunk='{"query":"Lisbon weather"}'),
        ToolRequestComplete(tool_call=search),
        ToolResult(id="ws_1", name="web_search", output='{"status":"completed"}'),
        ApprovalRequest(id="apr_1", tool_id="ws_1"),
        ToolRequestStart(id="fc_1", name="get_weather"),
        ToolRequestArg(id="fc_1", chunk='{"city":'),
        ToolRequestArg(id="fc_1", chunk='"Kyoto"}'),
        ToolRequestComplete(tool_call=weather),
        PartStart(kind="text", index=2, id="msg_2", phase="final_answer"),
        Text(chunk="Lisbon is warmer "),
        Text(chunk="today."),
        Citation(url="https://weather.example/lisbon", title="Lisbon forecast", start=0, end=6),
        PartStart(kind="refusal", index=3, id="msg_3"),
        Refusal(chunk="I cannot book flights."),
        Compaction(id="cmp_1", content="opaque"),
        Error(
            kind="server_error",
            code="server_error",
            message="upstream hiccup",
            status=None,
            retryable=True,
            retry_after=None,
        ),
        Usage(tokens=TokenUsage(input_tokens=12, output_tokens=34, reasoning_tokens=5)),
        Done(stop_reason="tool_use"),
    ]


def fixed_upstream(items: Sequence[Item]) -> Any:
    """An upstream that answers every request with ``items``."""

    def upstream(body: Any) -> Observable[Item]:
        return reactivex.from_iterable(list(items))

    return upstream


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1 at a free port; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class Event:
    """One server-sent event as the page's ``EventSource`` would see it."""

    id: int
    type: str
    data: dict[str, Any]


def parse_sse(text: str) -> tuple[list[Event], list[str]]:
    """The events and the comment lines of an event-stream body."""
    events: list[Event] = []
    comments: list[str] = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
        if "data" in fields:
            events.append(Event(int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return events, comments


async def create(session: aiohttp.ClientSession, base: str, **body: Any) -> dict[str, Any]:
    """``POST /streams``; the 201 answer's JSON."""
    async with session.post(f"{base}/streams", json={"input": "hi", **body}) as response:
        assert response.status == 201, await response.text()
        created: dict[str, Any] = await response.json()
        return created


async def watch(
    session: aiohttp.ClientSession, base: str, stream_id: str, after: int | None = None
) -> list[Event]:
    """Every event of ``GET /streams/{id}/events`` to its end."""
    headers = {} if after is None else {"Last-Event-ID": str(after)}
    url = f"{base}/streams/{stream_id}/events"
    async with session.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = await asyncio.wait_for(response.text(), WAIT)
    return parse_sse(text)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    """A real ``redis-server`` on a free loopback port, in a temporary folder; yields its URL.

    A missing ``redis-server`` fails the test (``.ci/run`` installs it).
    """
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed (apt-get install redis-server)"
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    assert process.poll() is None, "redis-server exited at start"
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def env() -> dict[str, str]:
    """The environment for a child ``rxresponses`` process: no key inherited."""
    return {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}


@dataclass
class BareWatcher:
    """An event connection on a bare socket, read only when the test says so."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def chunks(self) -> list[bytes]:
        """The rest of the answer's body, to the end, as the server wrote it: chunk by chunk.

        An answer that is not chunked (HTTP/1.0) is one piece.
        """
        raw = await asyncio.wait_for(self.reader.read(), WAIT)
        self.writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        if b"transfer-encoding: chunked" not in head.lower():
            return [body]
        pieces: list[bytes] = []
        while body:
            size_line, _, body = body.partition(b"\r\n")
            size = int(size_line, 16)
            if size:
                pieces.append(body[:size])
            body = body[size + 2 :]
        return pieces

    async def body(self) -> bytes:
        """The rest of the answer's body, to the end, without the head and chunk sizes."""
        return b"".join(await self.chunks())


async def bare_watch(
    base: str,
    stream_id: str,
    *,
    after: int | None = None,
    version: str = "1.1",
    receive_buffer: int | None = None,
) -> BareWatcher:
    """``GET /streams/{id}/events`` on a bare socket; a small ``receive_buffer`` fills fast."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    # A small stream-reader limit, so an unread answer backs up into the sockets.
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    resume = "" if after is None else f"Last-Event-ID: {after}\r\n"
    target = f"/streams/{stream_id}/events HTTP/{version}"
    head = f"GET {target}\r\nHost: {host}:{port}\r\nConnection: close\r\n{resume}\r\n"
    writer.write(head.encode())
    await writer.drain()
    return BareWatcher(reader, writer)
