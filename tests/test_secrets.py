"""The API key: sent only over TLS or to this machine, never shown anywhere else.

Real servers on 127.0.0.1 that echo the key back (in error bodies, codes,
reason phrases, headers, SSE ``error`` and ``response.failed`` events, data
that fails to decode), the real aiohttp client, the real CLI. Hosts that are
not loopback ones are reached through a resolver that sends every name to
127.0.0.1, so nothing leaves the machine and the server can tell whether a
request came at all.
"""

import asyncio
import json
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from rxresponses import Done, Error, Item, JsonLinesSink, PipelineError, Start
from rxresponses._http_cli import demo_recording_path
from rxresponses.http import (
    InsecureKeyRefused,
    build_request,
    http_source,
    is_loopback_host,
    key_may_travel_to,
    stream_responses,
)
from rxresponses.server import ReplayServer, make_app, stats_of

from tests.helpers import as_json, check_items

DEMO = Path(demo_recording_path())
#: The demo answer asks for two weather calls: the caller owes them, hence tool_use.
DEMO_DONE = Done(stop_reason="tool_use", last_sequence_number=108)
BODY = build_request("gpt-5", "hello")
KEY = "sk-proj-Secret-9fQ2LxT7vWm4Zr8K"
WAIT = 15.0


# --- helpers ---------------------------------------------------------------------------


class LoopbackResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1 and remembers which names were asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


@dataclass
class FarServer:
    """The demo replay server, reached as ``api.example.test`` through a ``LoopbackResolver``."""

    server: ReplayServer
    session: aiohttp.ClientSession
    resolver: LoopbackResolver
    base_url: str


@asynccontextmanager
async def far_server() -> AsyncIterator[FarServer]:
    resolver = LoopbackResolver()
    async with (
        ReplayServer([DEMO], events_per_second=None) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session,
    ):
        yield FarServer(server, session, resolver, f"http://api.example.test:{server.port}/v1")


class Run:
    """One subscription's items or its ``on_error``."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.failures: list[Exception] = []
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_next(self, item: Item) -> None:
        self.items.append(item)

    def on_error(self, error: Exception) -> None:
        self.failures.append(error)
        if not self.finished.done():
            self.finished.set_result(None)

    def on_completed(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    async def wait(self) -> "Run":
        await asyncio.wait_for(asyncio.shield(self.finished), WAIT)
        return self


async def run_items(items: Any) -> list[Item]:
    run = Run()
    items.subscribe(run.on_next, run.on_error, run.on_completed)
    await run.wait()
    assert run.failures == []
    check_items(run.items)
    return run.items


async def run_source(source: Any) -> Exception:
    """The one exception an ``http_source`` subscription ends with."""
    run = Run()
    source.subscribe(run.on_next, run.on_error, run.on_completed)
    await run.wait()
    (failure,) = run.failures
    return failure


def only_error(items: list[Item]) -> Error:
    assert [type(item) for item in items] == [Start, Error, Done], items
    error = items[1]
    assert isinstance(error, Error)
    return error


def texts_of(exc: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, args, traceback, and the same of its causes."""
    out = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    out += [repr(value) for value in vars(exc).values()]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            out += texts_of(linked)
    return out


def assert_no_key(texts: list[str], key: str = KEY) -> None:
    leaked = [text for text in texts if key in text]
    assert leaked == [], leaked[:3]


def sse(*events: dict[str, Any] | bytes) -> bytes:
    out = bytearray()
    for event in events:
        data = event if isinstance(event, bytes) else json.dumps(event).encode()
        out += b"data: " + data + b"\n\n"
    return bytes(out)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG and above, aiohttp's and asyncio's included."""
    names = (
        "aiohttp",
        "aiohttp.client",
        "aiohttp.server",
        "asyncio",
        "rxresponses",
        "rxresponses.operators",
    )
    for name in (None, *names):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = []
    for record in caplog.records:
        out.append(record.getMessage())
        out.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            out += texts_of(record.exc_info[1])
    out.append(caplog.text)
    return out


# --- where the key may go --------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]", "localhost", "LOCALHOST"],
)
def test_loopback_hosts_are_loopback(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        None,
        "api.openai.com",
        "10.0.0.1",
        "192.168.1.2",
        "0.0.0.0",
        "128.0.0.1",
        "::",
        "localhost.example.com",
        "mylocalhost",
        "127.0.0.1.example.com",
    ],
)
def test_other_hosts_are_not_loopback(host: str | None) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.openai.com/v1/responses", True),
        ("HTTPS://api.openai.com/v1/responses", True),
        ("https://10.0.0.5:8443/v1/responses", True),
        ("http://127.0.0.1:8080/v1/responses", True),
        ("http://localhost/v1/responses", True),
        ("http://[::1]:9/v1/responses", True),
        ("http://api.openai.com/v1/responses", False),
        ("http://10.0.0.5:8080/v1/responses", False),
        ("http://user:pass@example.com/v1/responses", False),
        ("ws://127.0.0.2/v1/responses", True),
        ("not a url", False),
    ],
)
def test_the_key_may_travel_only_over_https_or_to_loopback(url: str, allowed: bool) -> None:
    assert key_may_travel_to(url) is allowed


@pytest.mark.asyncio
async def test_a_key_for_plain_http_to_another_host_is_refused_before_anything_is_sent() -> None:
    async with far_server() as far:
        items = await run_items(
            stream_responses(BODY, base_url=far.base_url, api_key=KEY, session=far.session)
        )
        failure = await run_source(
            http_source(BODY, base_url=far.base_url, api_key=KEY, session=far.session)
        )
        assert far.server.stats.requests == 0
    assert far.resolver.asked == []  # not even a name lookup
    error = only_error(items)
    assert error.kind == "usage_error"
    assert error.status is None
    assert error.retryable is False
    assert error.retry_after is None
    assert "https://" in error.message
    assert "allow_insecure_key" in error.message
    assert "api.example.test" in error.message
    assert isinstance(failure, InsecureKeyRefused)
    assert failure.kind == "usage_error"
    assert failure.retryable is False
    assert_no_key([json.dumps(as_json(items)), *texts_of(failure)])


@pytest.mark.asyncio
async def test_the_refusal_shows_no_credentials_of_the_url() -> None:
    url = f"http://admin:{KEY}@proxy.example.test:9/v1"
    error = only_error(await run_items(stream_responses(BODY, base_url=url, api_key=KEY)))
    assert error.kind == "usage_error"
    assert "proxy.example.test" in error.message
    assert_no_key([error.message])
    assert "admin" not in error.message


@pytest.mark.asyncio
async def test_a_key_from_the_environment_is_refused_the_same_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    error = only_error(
        await run_items(stream_responses(BODY, base_url="http://api.example.test:9/v1"))
    )
    assert error.kind == "usage_error"
    assert_no_key([error.message])


@pytest.mark.asyncio
async def test_allow_insecure_key_sends_the_key_over_plain_http() -> None:
    async with far_server() as far:
        items = await run_items(
            stream_responses(
                BODY,
                base_url=far.base_url,
                api_key=KEY,
                session=far.session,
                allow_insecure_key=True,
            )
        )
        (received,) = far.server.stats.received
    assert far.resolver.asked == ["api.example.test"]
    assert received.headers["Authorization"] == f"Bearer {KEY}"
    assert items[-1] == DEMO_DONE


@pytest.mark.asyncio
async def test_without_a_key_any_url_is_used_and_no_authorization_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with far_server() as far:
        items = await run_items(stream_responses(BODY, base_url=far.base_url, session=far.session))
        (received,) = far.server.stats.received
    assert "Authorization" not in received.headers
    assert items[-1] == DEMO_DONE


@pytest.mark.asyncio
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_over_plain_http_gets_the_key(host: str) -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        base_url = f"http://{host}:{server.port}/v1"
        items = await run_items(stream_responses(BODY, base_url=base_url, api_key=KEY))
        (received,) = server.stats.received
    assert received.headers["Authorization"] == f"Bearer {KEY}"
    assert items[-1] == DEMO_DONE


def test_cli_stream_refuses_a_key_for_plain_http_and_never_prints_it(tmp_path: Path) -> None:
    log = tmp_path / "items.jsonl"
    env = {"OPENAI_API_KEY": KEY, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "rxresponses", "stream", "hi", "--model", "m", "--jsonl"]
    command += ["--base-url", "http://api.example.test:9/v1", "--log", str(log)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=WAIT, check=False
    )
    assert done.returncode == 1, done.stderr  # done came after an error item
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["type"] for line in lines] == ["start", "error", "done"]
    assert lines[1]["kind"] == "usage_error"
    assert "--allow-insecure-key" in lines[1]["message"]
    assert_no_key([done.stdout, done.stderr, log.read_text()])


def test_cli_stream_offers_allow_insecure_key() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rxresponses", "stream", "--help"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 0
    assert "--allow-insecure-key" in done.stdout


# --- TLS verification ------------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store knows, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=True,
        timeout=WAIT,
    )
    return cert, key


@pytest.mark.asyncio
async def test_tls_is_verified_and_only_a_callers_own_session_can_trust_another_cert(
    self_signed: tuple[Path, Path],
) -> None:
    cert, key = self_signed
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    app = make_app([DEMO], events_per_second=None)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    try:
        port = next(address[1] for address in runner.addresses if isinstance(address, tuple))
        base_url = f"https://127.0.0.1:{port}/v1"
        error = only_error(await run_items(stream_responses(BODY, base_url=base_url, api_key=KEY)))
        assert error.kind == "connect_error"
        assert "certificate" in error.message.lower()
        # A caller's session with the default connector verifies too: the source
        # never asks for less per request.
        async with aiohttp.ClientSession() as plain:
            error = only_error(
                await run_items(
                    stream_responses(BODY, base_url=base_url, api_key=KEY, session=plain)
                )
            )
        assert error.kind == "connect_error"
        assert stats_of(app).requests == 0
        trusting = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusting)) as session:
            items = await run_items(
                stream_responses(BODY, base_url=base_url, api_key=KEY, session=session)
            )
        assert items[-1] == DEMO_DONE
        assert stats_of(app).received[0].headers["Authorization"] == f"Bearer {KEY}"
    finally:
        await runner.cleanup()


# --- servers that echo the key ---------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
async def test_a_key_echoed_in_an_error_body_is_redacted_everywhere(
    status: int, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    body = {
        "error": {
            "message": f"Incorrect API key provided: {KEY}. Try again in 2s.",
            "type": "invalid_request_error",
            "param": KEY,
            "code": f"invalid_api_key:{KEY}",
        }
    }
    headers = {"X-Echo": KEY, "WWW-Authenticate": f'Bearer realm="{KEY}"'}
    log = tmp_path / "items.jsonl"
    async with ReplayServer([DEMO], status=status, error_body=body, headers=headers) as server:
        source = http_source(BODY, base_url=server.base_url, api_key=KEY)
        failure = await run_source(source)
        items_of = stream_responses(BODY, base_url=server.base_url, api_key=KEY)
        sink = JsonLinesSink.open(log)
        items_of.subscribe(sink)
        items = await run_items(items_of)
        shown = [repr(source), repr(items_of), repr(server), repr(server.stats)]
        shown += [repr(request) for request in server.stats.received]
        assert server.stats.received[0].headers["Authorization"] == f"Bearer {KEY}"
    await asyncio.sleep(0.05)
    error = only_error(items)
    assert isinstance(failure, PipelineError)
    assert "[redacted]" in error.message
    assert error.message == failure.message
    assert_no_key([*shown, *texts_of(failure), json.dumps(as_json(items)), log.read_text()])
    assert_no_key(log_texts(logs))


@pytest.mark.asyncio
async def test_a_key_in_the_reason_phrase_or_the_content_type_is_redacted() -> None:
    async def reason(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=403, reason=f"Forbidden for {KEY}", text="no")

    async def content_type(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=200, body=b"{}", headers={"Content-Type": f"text/{KEY}"})

    app = web.Application()
    app.router.add_post("/a/responses", reason)
    app.router.add_post("/b/responses", content_type)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = next(address[1] for address in runner.addresses if isinstance(address, tuple))
        found = []
        for path in ("a", "b"):
            url = f"http://127.0.0.1:{port}/{path}"
            found.append(
                only_error(await run_items(stream_responses(BODY, base_url=url, api_key=KEY)))
            )
            failure = await run_source(http_source(BODY, base_url=url, api_key=KEY))
            assert_no_key(texts_of(failure))
    finally:
        await runner.cleanup()
    assert [error.kind for error in found] == ["http_error", "http_error"]
    assert all("[redacted]" in error.message for error in found)
    assert_no_key([json.dumps(as_json(found))])


@pytest.mark.asyncio
async def test_a_key_echoed_in_stream_events_is_redacted_in_every_item(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    recording = sse(
        {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}},
        {"type": "error", "code": f"bad_key_{KEY}", "message": f"key {KEY} is revoked"},
        {"type": "error", "error": {"code": KEY, "message": f"nested {KEY}"}},
        {"type": "error", "code": KEY},
        f'{{"type":"response.output_text.delta","delta": {KEY} }}'.encode(),
        {"type": "response.output_text.delta", "output_index": 0, "delta": "fine"},
        {
            "type": "response.failed",
            "response": {
                "id": "resp_1",
                "status": "failed",
                "error": {"code": f"auth:{KEY}", "message": f"failed for {KEY}"},
            },
        },
    )
    log = tmp_path / "items.jsonl"
    async with ReplayServer([recording], events_per_second=None) as server:
        stream = stream_responses(BODY, base_url=server.base_url, api_key=KEY)
        sink = JsonLinesSink.open(log)
        stream.subscribe(sink)
        items = await run_items(stream)
    await asyncio.sleep(0.05)
    errors = [item for item in items if isinstance(item, Error)]
    # response.failed adds no error after the stream's error events (one per failure)
    assert [error.kind for error in errors] == [
        "server_error",
        "server_error",
        "server_error",
        "decode_error",
    ]
    assert all("[redacted]" in error.message for error in errors)
    assert_no_key([json.dumps(as_json(items)), log.read_text()])
    assert_no_key(log_texts(logs))
