"""``rxresponses demo``, ``stream`` and ``serve``, run as processes against 127.0.0.1."""

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rxresponses._http_cli import DEFAULT_BASE_URL, DEFAULT_RATE, demo_recording_path
from rxresponses.http import DEFAULT_BASE_URL as HTTP_DEFAULT_BASE_URL
from rxresponses.server import DEFAULT_EVENTS_PER_SECOND, ReplayServer

from tests.fixtures import make_demo_sse
from tests.helpers import check_invariants, errors, of_type, tool_calls, without_message_id

DEMO = Path(demo_recording_path())
KEY = "sk-test-cli-Qm93SECRETkey7710"
WAIT = 30.0


def env(key: str | None = None, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    if key is not None:
        out["OPENAI_API_KEY"] = key
    return {**out, **extra}


def cli(
    *args: str, key: str | None = None, cwd: Path | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rxresponses", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env(key, **extra_env),
        cwd=cwd,
        timeout=WAIT,
        check=False,
    )


async def acli(*args: str, key: str | None = None) -> tuple[int, str, str]:
    """The CLI as a process, while this test's event loop keeps serving."""
    return await acli_raw([sys.executable, "-m", "rxresponses", *args], key=key)


async def acli_raw(command: list[str], key: str | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env(key),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.split("\n") if line]


# --- demo ------------------------------------------------------------------------------


def test_bundled_demo_stream_is_what_the_generator_writes() -> None:
    assert DEMO.read_bytes() == make_demo_sse.render()


def test_demo_exits_0_shows_the_answer_and_logs_to_the_cache_not_the_cwd(tmp_path: Path) -> None:
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    cache = tmp_path / "cache"
    done = cli("demo", cwd=cwd, XDG_CACHE_HOME=str(cache))  # default pacing, default log place
    assert done.returncode == 0, done.stderr
    assert list(cwd.iterdir()) == []
    log = cache / "rxresponses" / "demo.jsonl.log"
    assert f"JSON Lines log: {log}" in done.stdout.splitlines()[-1]
    items = jsonl(log.read_text(encoding="utf-8"))
    check_invariants(items)
    replayed = jsonl(cli("replay", str(DEMO), "--jsonl").stdout)
    assert without_message_id(items) == without_message_id(replayed)
    assert [call["name"] for call in tool_calls(items)] == ["get_weather", "get_weather"]
    assert of_type(items, "reasoning", "encrypted_reasoning", "usage")
    assert errors(items) == []
    # The answer asks for two weather calls: the caller owes them.
    assert items[-1] == {"type": "done", "stop_reason": "tool_use", "last_sequence_number": 108}
    text = "".join(item["chunk"] for item in of_type(items, "text"))
    assert text in done.stdout
    assert '"city": "Kyoto"' in done.stdout  # pretty-printed arguments
    assert "\x1b" not in done.stdout  # not a terminal: plain text
    assert done.stdout.splitlines()[-2].startswith("done: tool_use")


def test_demo_writes_the_log_where_asked(tmp_path: Path) -> None:
    log = tmp_path / "here.jsonl"
    done = cli("demo", "--log", str(log), "--rate", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"JSON Lines log: {log}"
    assert jsonl(log.read_text())[-1] == {
        "type": "done",
        "stop_reason": "tool_use",
        "last_sequence_number": 108,
    }


def test_demo_log_in_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("demo", "--log", str(tmp_path / "no" / "such.jsonl"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1


# --- stream ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stream_jsonl_prints_what_replay_jsonl_prints() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        code, out, err = await acli(
            "stream", "What's the weather?", "--base-url", server.base_url, "--model", "gpt-5",
            "--jsonl", key=KEY,
        )  # fmt: skip
        (request,) = server.stats.received
    assert code == 0, err
    assert out.endswith("\n")
    replayed = cli("replay", str(DEMO), "--jsonl").stdout
    assert without_message_id(jsonl(out)) == without_message_id(jsonl(replayed))
    assert request.json()["model"] == "gpt-5"
    assert request.json()["input"] == "What's the weather?"
    assert request.json()["stream"] is True
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in out + err


@pytest.mark.asyncio
async def test_stream_never_prints_the_key_even_when_the_server_echoes_it() -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}
    async with ReplayServer([DEMO], status=401, error_body=echo) as server:
        for view in (["--jsonl"], []):
            code, out, err = await acli(
                "stream", "hi", "--base-url", server.base_url, "--model", "m", *view, key=KEY
            )
            assert code == 1, err  # the stream reached done after an error item
            assert KEY not in out + err
            assert "Incorrect API key provided: [redacted]." in out
        assert server.stats.requests == 2


@pytest.mark.asyncio
async def test_stream_without_a_key_sends_no_authorization_header() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        code, out, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl"
        )
        assert code == 0, err
        assert err == ""  # no warning for a server on this machine
        assert "Authorization" not in server.stats.received[0].headers
    assert jsonl(out)[-1] == {
        "type": "done",
        "stop_reason": "tool_use",
        "last_sequence_number": 108,
    }


@pytest.mark.asyncio
async def test_stream_idle_timeout_gives_a_timeout_item_and_exit_1() -> None:
    async with ReplayServer([DEMO], first_byte_delay=30) as server:
        code, out, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl",
            "--idle-timeout", "0.5",
        )  # fmt: skip
    assert code == 1, err
    items = jsonl(out)
    assert [item["type"] for item in items] == ["start", "error", "done"]
    assert items[1]["kind"] == "timeout"


@pytest.mark.asyncio
async def test_stream_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    async with ReplayServer([DEMO], events_per_second=200) as server:
        stream = shlex.join(
            [sys.executable, "-m", "rxresponses", "stream", "hi", "--base-url", server.base_url,
             "--model", "m", "--jsonl"]
        )  # fmt: skip
        errors_file = shlex.quote(str(tmp_path / "stderr"))
        script = f'{stream} 2>{errors_file} | head -n 1; echo "exit=${{PIPESTATUS[0]}}"'
        code, out, err = await acli_raw(["bash", "-c", script])
    assert code == 0, err
    first, status = out.splitlines()
    assert json.loads(first)["type"] == "start"
    assert status == "exit=0"
    assert (tmp_path / "stderr").read_text() == ""


def test_stream_bad_arguments_exit_2_with_one_line() -> None:
    for args in (
        ["stream", "hi", "--model", "m", "--idle-timeout", "0"],
        ["stream", "hi", "--model", "m", "--idle-timeout", "soon"],
        ["stream", "hi"],  # no model
    ):
        done = cli(*args)
        assert done.returncode == 2, args
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stdout == ""


def test_stream_connection_refused_is_an_item_and_exit_1() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cli(
        "stream", "hi", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "--jsonl"
    )
    assert done.returncode == 1, done.stderr
    items = jsonl(done.stdout)
    assert [item["type"] for item in items] == ["start", "error", "done"]
    assert items[1]["kind"] == "connect_error"


# --- serve -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_serve_replays_to_stream_and_stops_on_sigterm() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxresponses", "serve", str(DEMO), "--port", "0", "--rate", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = (await asyncio.wait_for(server.stdout.readline(), WAIT)).decode()
        found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", banner)
        assert found, banner
        code, out, err = await acli(
            "stream", "hi", "--base-url", found.group(1), "--model", "m", "--jsonl"
        )
        assert code == 0, err
        replayed = cli("replay", str(DEMO), "--jsonl").stdout
        assert without_message_id(jsonl(out)) == without_message_id(jsonl(replayed))
        server.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(server.communicate(), WAIT)
        assert server.returncode == 0
        assert "served 1 request(s)" in rest.decode()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


def test_serve_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("serve", str(tmp_path / "missing.sse"), "--port", "0")
    assert done.returncode == 2
    assert "missing.sse" in done.stderr


# --- what the commands import ----------------------------------------------------------


def test_help_and_replay_do_not_import_aiohttp(tmp_path: Path) -> None:
    script = (
        "import sys, io, contextlib\n"
        "from rxresponses.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['replay', {str(DEMO)!r}])\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp was imported'\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "demo" in done.stdout
    assert "serve" in done.stdout


def test_cli_defaults_match_the_library() -> None:
    assert DEFAULT_BASE_URL == HTTP_DEFAULT_BASE_URL
    assert DEFAULT_RATE == DEFAULT_EVENTS_PER_SECOND
