"""SPEC §6: what a script can rely on from ``rxresponses``: exit codes, Ctrl-C, options.

Every test runs the command line as a real process; ``stream`` talks to a real
``ReplayServer`` on 127.0.0.1.
"""

import asyncio
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rxresponses.cli import detect_format, sniff_format
from rxresponses.operators import AutoFramer
from rxresponses.server import ReplayServer

from tests.helpers import FIXTURES, REPO, check_invariants, chunks_of, errors, parse_jsonl
from tests.test_cli_http import DEMO, KEY, WAIT, acli, cli, env, jsonl

SCRIPT = Path(sys.executable).parent / "rxresponses"
JSONL_FIXTURE = FIXTURES / "vercel_ai" / "azure-text.1.chunks.txt"
SSE_FIXTURE = FIXTURES / "pydantic_ai" / "test_openai_responses_stream.1.sse"
DELTA = b'data: {"type":"response.output_text.delta","delta":"first"}\n\n'
CANCELLED = {
    "type": "error",
    "kind": "cancelled",
    "code": None,
    "message": "interrupted",
    "status": None,
    "retryable": False,
    "retry_after": None,
}


def assert_one_line(stderr: str) -> None:
    assert stderr.endswith("\n")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


def assert_usage_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert_one_line(done.stderr)
    assert done.stderr.startswith("rxresponses")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def read_until(stream: IO[bytes], wanted: bytes, timeout: float = WAIT) -> bytes:
    """What a pipe gave until ``wanted`` appeared in it; fails if it does not come in time."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffer = b""
    try:
        while wanted not in buffer:
            assert selector.select(timeout), f"no {wanted!r} after {timeout}s: {buffer!r}"
            piece = os.read(stream.fileno(), 65536)
            assert piece, f"output ended early: {buffer!r}"
            buffer += piece
    finally:
        selector.unregister(stream)
    return buffer


def interrupt(process: "subprocess.Popen[bytes]", seen: bytes) -> tuple[bytes, str]:
    """SIGINT to ``process``; all it wrote to standard output (``seen`` first) and to stderr."""
    assert process.stdout is not None
    assert process.stderr is not None
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=WAIT)
    return seen + out, err.decode()


# ---- exit codes 0 and 1 ---------------------------------------------------------------


def test_replay_exits_0_when_done_came_without_an_error_item() -> None:
    done = cli("replay", str(SSE_FIXTURE), "--jsonl")
    assert done.returncode == 0, done.stderr
    assert errors(jsonl(done.stdout)) == []


def test_replay_exits_1_after_an_error_item_and_still_prints_everything(tmp_path: Path) -> None:
    path = tmp_path / "cut.sse"
    path.write_bytes(SSE_FIXTURE.read_bytes()[:-200] + b"\n\ndata: {broken\n\n")
    done = cli("replay", str(path), "--jsonl")
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    items = jsonl(done.stdout)
    check_invariants(items)
    assert "decode_error" in [e["kind"] for e in errors(items)]
    assert items[-1]["type"] == "done"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "kind"), [(401, "http_error"), (404, "http_error"), (429, "rate_limited")]
)
async def test_stream_exits_1_on_an_http_error(status: int, kind: str) -> None:
    async with ReplayServer([DEMO], status=status) as server:
        code, out, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl"
        )
    assert code == 1, err
    items = jsonl(out)
    assert [item["type"] for item in items] == ["start", "error", "done"]
    assert (items[1]["kind"], items[1]["status"]) == (kind, status)


def test_stream_exits_1_when_the_connection_is_refused() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    done = cli("stream", "hi", "--base-url", base_url, "--model", "m", "--jsonl")
    assert done.returncode == 1, done.stderr
    assert [e["kind"] for e in errors(jsonl(done.stdout))] == ["connect_error"]


def test_demo_exits_0(tmp_path: Path) -> None:
    done = cli("demo", "--rate", "0", "--log", str(tmp_path / "log.jsonl"))
    assert done.returncode == 0, done.stderr


# ---- exit code 2: bad arguments -------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.com/v1", "localhost:8080/v1", "example.com", "http://", ""]
)
def test_stream_base_url_without_http_scheme_exits_2(url: str) -> None:
    assert_usage_error(cli("stream", "hi", "--model", "m", "--base-url", url))


def test_replay_file_that_cannot_be_opened_exits_2(tmp_path: Path) -> None:
    # A path through a file fails to open for every user, root included.
    path = tmp_path / "recording.sse"
    path.write_bytes(DELTA)
    assert_usage_error(cli("replay", str(path / "inside.sse"), "--jsonl"))


@pytest.mark.parametrize("value", ["sometimes", "SSE", ""])
def test_replay_unknown_format_or_wire_exits_2(value: str) -> None:
    assert_usage_error(cli("replay", str(SSE_FIXTURE), "--format", value))
    assert_usage_error(cli("replay", str(SSE_FIXTURE), "--wire", value))


def test_stream_unknown_wire_exits_2() -> None:
    assert_usage_error(cli("stream", "hi", "--model", "m", "--wire", "auto"))


@pytest.mark.parametrize(
    "content", [b"not json", b'{"type": "function"}', b'["get_weather"]', b"[{]"]
)
def test_stream_bad_tools_file_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "tools.json"
    path.write_bytes(content)
    assert_usage_error(cli("stream", "hi", "--model", "m", "--tools", str(path)))


def test_stream_missing_tools_file_exits_2(tmp_path: Path) -> None:
    done = cli("stream", "hi", "--model", "m", "--tools", str(tmp_path / "none.json"))
    assert_usage_error(done)
    assert "none.json" in done.stderr


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_stream_negative_retries_exits_2(value: str) -> None:
    assert_usage_error(cli("stream", "hi", "--model", "m", "--retries", value))


def test_stream_empty_prompt_on_standard_input_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rxresponses", "stream", "-", "--model", "m"],
        input="\n",
        capture_output=True,
        text=True,
        env=env(),
        timeout=WAIT,
        check=False,
    )
    assert_usage_error(done)


# ---- program name, version, usage -----------------------------------------------------


@pytest.mark.parametrize("runner", [[sys.executable, "-m", "rxresponses"], [str(SCRIPT)]])
def test_version_is_the_installed_distribution_version(runner: list[str]) -> None:
    done = subprocess.run(
        [*runner, "--version"], capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"rxresponses {version('rxresponses')}\n"


@pytest.mark.parametrize("runner", [[sys.executable, "-m", "rxresponses"], [str(SCRIPT)]])
def test_no_command_prints_the_usage_and_exits_2(runner: list[str]) -> None:
    done = subprocess.run(runner, capture_output=True, text=True, timeout=WAIT, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: rxresponses ")
    for command in ("replay", "demo", "stream", "serve"):
        assert command in done.stderr


def test_every_message_names_the_program_rxresponses() -> None:
    for args in (["replay"], ["stream", "hi"], ["serve"], ["nonsense"], ["replay", "-x", "-"]):
        done = cli(*args)
        assert done.returncode == 2
        assert done.stderr.startswith("rxresponses"), done.stderr
        assert "__main__" not in done.stderr


# ---- replay --format auto and --wire --------------------------------------------------


def test_replay_reads_json_lines_without_being_told() -> None:
    told = cli("replay", str(JSONL_FIXTURE), "--jsonl", "--format", "jsonl")
    guessed = cli("replay", str(JSONL_FIXTURE), "--jsonl")
    assert guessed.returncode == 0, guessed.stderr
    assert chunks_of(jsonl(guessed.stdout), "text") == ["Hello"]
    assert len(jsonl(guessed.stdout)) == len(jsonl(told.stdout))


def test_replay_auto_reads_sse_as_sse() -> None:
    done = cli("replay", str(SSE_FIXTURE), "--jsonl", "--format", "auto")
    assert done.returncode == 0, done.stderr
    assert "".join(chunks_of(jsonl(done.stdout), "text")) == "The capital of France is Paris."


def test_replay_tells_json_lines_on_standard_input_one_byte_at_a_time() -> None:
    data = b"\xef\xbb\xbf \r\n\t\n" + JSONL_FIXTURE.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "rxresponses", "replay", "-", "--jsonl", "--chunk-size", "1"],
        input=data,
        capture_output=True,
        cwd=REPO,
        timeout=WAIT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert chunks_of(parse_jsonl(result.stdout), "text") == ["Hello"]


def test_replay_format_sse_reads_a_json_lines_file_as_sse() -> None:
    done = cli("replay", str(JSONL_FIXTURE), "--jsonl", "--format", "sse")
    assert done.returncode == 1  # nothing in it is an SSE event: the stream ends early
    assert chunks_of(jsonl(done.stdout), "text") == []


def test_replay_wire_responses_is_accepted() -> None:
    for wire in ("auto", "responses"):
        done = cli("replay", str(SSE_FIXTURE), "--jsonl", "--wire", wire)
        assert done.returncode == 0, done.stderr
        assert chunks_of(jsonl(done.stdout), "text")


_SPACE = st.sampled_from([b" ", b"\t", b"\r", b"\n", b"\xef\xbb\xbf"])


@given(
    lead=st.lists(_SPACE, max_size=6).map(b"".join),
    body=st.binary(min_size=1).filter(lambda b: b[:1] not in b" \t\r\n\xef"),
    cuts=st.lists(st.integers(min_value=1, max_value=8), max_size=40),
)
def test_framing_is_decided_by_the_first_meaningful_byte_however_the_input_is_cut(
    lead: bytes, body: bytes, cuts: list[int]
) -> None:
    data = lead + body
    pieces: list[bytes] = []
    at = 0
    for size in cuts:
        pieces.append(data[at : at + size])
        at += size
    pieces.append(data[at:])
    chunks = [piece for piece in pieces if piece]
    read: list[bytes] = []

    def source() -> Any:
        for chunk in chunks:
            read.append(chunk)
            yield chunk

    found, rest = detect_format(source())
    expected = "jsonl" if body[:1] == b"{" else "sse"
    assert found == expected == sniff_format(data)
    # it looked only as far as it had to
    assert len(b"".join(read)) < len(lead) + 1 + max((len(c) for c in chunks), default=0)
    assert b"".join(rest) == data


@given(
    st.binary(max_size=12),
    st.sampled_from([b"", b" ", b"\t\r\n", b"\xef\xbb\xbf", b"\x0b\x0c"]),
)
def test_the_command_line_tells_the_framing_as_the_library_does(body: bytes, lead: bytes) -> None:
    data = lead + body
    framer = AutoFramer()
    framer.decode(data)

    assert sniff_format(data) == framer.format


@pytest.mark.parametrize("head", [b"", b"  \n", b"\xef", b"\xef\xbb", b"\xef\xbb\xbf\n"])
def test_framing_of_input_that_ends_before_a_meaningful_byte_is_sse(head: bytes) -> None:
    assert sniff_format(head) is None
    found, rest = detect_format(iter([head]))
    assert found == "sse"
    assert b"".join(rest) == head


CHAT_FIXTURE = FIXTURES / "chat" / "pydantic_ai" / "test_openrouter_streaming_reasoning.0.sse"
ANTHROPIC_FIXTURE = FIXTURES / "anthropic" / "vercel_ai" / "anthropic-text.sse"


@pytest.mark.parametrize("wire", ["auto", "chat"])
def test_replay_reads_a_chat_recording_as_the_chat_wire(wire: str) -> None:
    done = cli("replay", str(CHAT_FIXTURE), "--jsonl", "--wire", wire)

    assert done.returncode == 0, done.stderr
    items = jsonl(done.stdout)
    assert chunks_of(items, "text")
    assert items[1]["type"] == "metadata"
    assert items[1]["response_id"].startswith("gen-")


def test_replay_of_a_chat_recording_read_as_responses_says_no_event_was_read() -> None:
    done = cli("replay", str(CHAT_FIXTURE), "--jsonl", "--wire", "responses")

    assert done.returncode == 1
    error = [i for i in jsonl(done.stdout) if i["type"] == "error"][-1]
    assert error["kind"] == "stream_interrupted"
    assert "no OpenAI Responses event was read" in error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("wire", "fixture", "path"),
    [
        ("chat", CHAT_FIXTURE, "/v1/chat/completions"),
        ("anthropic", ANTHROPIC_FIXTURE, "/v1/messages"),
    ],
)
async def test_stream_wire_posts_to_that_wires_endpoint_in_its_shape(
    wire: str, fixture: Path, path: str
) -> None:
    async with ReplayServer([fixture], events_per_second=None) as server:
        code, out, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl",
            "--wire", wire, "--instructions", "be brief",
        )  # fmt: skip
        (request,) = server.stats.received
    body = request.json()

    assert code == 0, err
    assert chunks_of(jsonl(out), "text")
    assert body["messages"][-1] == {"role": "user", "content": "hi"}
    if wire == "chat":
        assert body["messages"][0] == {"role": "system", "content": "be brief"}
        assert body["stream_options"] == {"include_usage": True}
    else:
        assert body["system"] == "be brief"
        assert body["max_tokens"] > 0


def test_stream_background_is_refused_for_another_wire() -> None:
    assert_usage_error(
        cli("stream", "hi", "--model", "m", "--wire", "chat", "--background",
            "--base-url", "http://127.0.0.1:9")
    )  # fmt: skip


# ---- stream options -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stream_dash_reads_the_prompt_from_standard_input() -> None:
    prompt = "Two lines,\nand ünïcödé"
    async with ReplayServer([DEMO], events_per_second=None) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rxresponses", "stream", "-", "--base-url", server.base_url,
            "--model", "m", "--jsonl",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env(),
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(prompt.encode() + b"\n"), WAIT)
        (request,) = server.stats.received
    assert process.returncode == 0, err.decode()
    assert request.json()["input"] == prompt
    assert jsonl(out.decode())[-1]["type"] == "done"


@pytest.mark.asyncio
async def test_stream_tools_file_is_sent_as_the_requests_tools(tmp_path: Path) -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"type": "web_search"},
    ]
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tools))
    async with ReplayServer([DEMO], events_per_second=None) as server:
        code, _, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl",
            "--tools", str(path),
        )  # fmt: skip
        (request,) = server.stats.received
    assert code == 0, err
    assert request.json()["tools"] == tools


@pytest.mark.asyncio
async def test_stream_retries_a_request_that_fails_before_any_content() -> None:
    async with ReplayServer([DEMO], status=429, retry_after="0") as server:
        code, out, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl",
            "--retries", "2",
        )  # fmt: skip
        assert server.stats.requests == 3
    assert code == 1, err
    items = jsonl(out)
    assert [item["type"] for item in items] == ["start", "error", "done"]
    assert items[1]["kind"] == "rate_limited"


@pytest.mark.asyncio
async def test_stream_retries_0_sends_one_request() -> None:
    async with ReplayServer([DEMO], status=429, retry_after="0") as server:
        code, _, err = await acli(
            "stream", "hi", "--base-url", server.base_url, "--model", "m", "--jsonl",
            "--retries", "0",
        )  # fmt: skip
        assert server.stats.requests == 1
    assert code == 1, err


def test_stream_warns_once_when_no_key_goes_to_another_machine() -> None:
    # 192.0.2.1 (TEST-NET-1) never answers: the request fails, the warning is the point
    args = ["stream", "hi", "--model", "m", "--jsonl", "--connect-timeout", "0.5"]
    without_key = cli(*args, "--base-url", "http://192.0.2.1:9/v1")
    assert without_key.returncode == 1
    assert_one_line(without_key.stderr)
    assert "OPENAI_API_KEY" in without_key.stderr
    with_key = cli(*args, "--base-url", "https://192.0.2.1:9/v1", key=KEY)
    assert with_key.stderr == ""
    assert KEY not in with_key.stdout


# ---- serve --format -------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("option", [[], ["--format", "jsonl"]])
async def test_serve_serves_a_json_lines_recording_as_sse(option: list[str]) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxresponses", "serve", str(JSONL_FIXTURE), "--port", "0",
        "--rate", "0", *option,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = (await asyncio.wait_for(server.stdout.readline(), WAIT)).decode()
        base_url = banner.split(" at ")[1].split(" ")[0]
        code, out, err = await acli(
            "stream", "hi", "--base-url", base_url, "--model", "m", "--jsonl"
        )
        assert code == 0, err
        replayed = jsonl(cli("replay", str(JSONL_FIXTURE), "--jsonl").stdout)
        assert [i["type"] for i in jsonl(out)] == [i["type"] for i in replayed]
        assert chunks_of(jsonl(out), "text") == ["Hello"]
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.communicate(), WAIT)


# ---- Ctrl-C: exit 130, the outputs end with a cancelled error and done ----------------


def assert_cancelled_at_the_end(items: list[dict[str, Any]]) -> None:
    # the shared invariant check predates the CLI-only kind: it checks all but that item
    check_invariants([item for item in items if item != CANCELLED])
    done = {"type": "done", "stop_reason": None, "last_sequence_number": None}
    assert items[-2:] == [CANCELLED, done]
    assert items.count(CANCELLED) == 1


def test_ctrl_c_in_replay_of_standard_input_ends_with_cancelled_and_done() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "rxresponses", "replay", "-", "--jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(DELTA)
        process.stdin.flush()  # and the pipe stays open
        seen = read_until(process.stdout, b'"chunk":"first"}\n')
        out, err = interrupt(process, seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
    assert process.returncode == 130
    assert err == "rxresponses: interrupted\n"
    items = parse_jsonl(out)
    assert [i["type"] for i in items] == ["start", "part_start", "text", "error", "done"]
    assert_cancelled_at_the_end(items)


def test_ctrl_c_in_replay_terminal_view_ends_with_the_cancelled_error() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "rxresponses", "replay", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(DELTA)
        process.stdin.flush()
        seen = read_until(process.stdout, b"first")
        out, err = interrupt(process, seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
    assert process.returncode == 130
    assert err == "rxresponses: interrupted\n"
    lines = out.decode().splitlines()
    assert "error [cancelled] interrupted" in lines
    assert lines[-1].startswith("done: no stop reason")


def test_ctrl_c_in_demo_ends_the_view_and_the_log_with_cancelled_and_done(
    tmp_path: Path,
) -> None:
    log = tmp_path / "demo.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "rxresponses", "demo", "--rate", "5", "--log", str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
    )  # fmt: skip
    assert process.stdout is not None
    try:
        seen = read_until(process.stdout, b"\nresponse ")  # the first item shown
        out, err = interrupt(process, seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert err == "rxresponses: interrupted\n"
    text = out.decode()
    assert "error [cancelled] interrupted" in text
    assert text.splitlines()[-1] == f"JSON Lines log: {log}"
    assert_cancelled_at_the_end(jsonl(log.read_text()))


@pytest.mark.asyncio
async def test_ctrl_c_in_stream_ends_stdout_and_the_log_with_cancelled_and_done(
    tmp_path: Path,
) -> None:
    log = tmp_path / "stream.jsonl"
    async with ReplayServer([DEMO], events_per_second=4) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rxresponses", "stream", "hi", "--base-url", server.base_url,
            "--model", "m", "--jsonl", "--log", str(log),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env(),
        )  # fmt: skip
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), WAIT)
        assert json.loads(first)["type"] == "start"
        process.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(process.communicate(), WAIT)
        assert await server.stats.wait_idle(WAIT)  # the request was dropped
    assert process.returncode == 130
    assert err.decode() == "rxresponses: interrupted\n"
    items = parse_jsonl(first + rest)
    assert_cancelled_at_the_end(items)
    assert jsonl(log.read_text()) == items
