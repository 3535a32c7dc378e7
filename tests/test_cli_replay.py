"""SPEC §6: the ``rxresponses replay`` command line, run as a subprocess."""

import json
import selectors
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from tests.helpers import (
    FIXTURES,
    REPO,
    JSONObject,
    check_invariants,
    chunks_of,
    errors,
    parse_jsonl,
    replay,
    tool_calls,
    without_message_id,
)

TEXT_FIXTURE = FIXTURES / "pydantic_ai" / "test_openai_responses_stream.1.sse"
CLI = [sys.executable, "-m", "rxresponses", "replay"]


def _event(event: JSONObject) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def _delta(text: str) -> bytes:
    return _event({"type": "response.output_text.delta", "delta": text})


COMPLETED = _event({"type": "response.completed", "response": {"id": "r", "status": "completed"}})


def _assert_usage_error(result: subprocess.CompletedProcess[bytes]) -> None:
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.endswith(b"\n")
    assert result.stderr.count(b"\n") == 1, result.stderr.decode()
    assert b"Traceback" not in result.stderr


# ---- bad arguments --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_bad_chunk_size_exits_2_with_one_line(value: str) -> None:
    _assert_usage_error(replay(str(TEXT_FIXTURE), "--jsonl", f"--chunk-size={value}"))


def test_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = replay(str(tmp_path / "nothing-here.sse"), "--jsonl")
    _assert_usage_error(result)
    assert b"nothing-here.sse" in result.stderr


def test_directory_exits_2_with_one_line(tmp_path: Path) -> None:
    result = replay(str(tmp_path), "--jsonl")
    _assert_usage_error(result)


@pytest.mark.parametrize("option", ["--max-event-bytes", "--max-tool-input-bytes"])
def test_bad_cap_exits_2_with_one_line(option: str) -> None:
    _assert_usage_error(replay(str(TEXT_FIXTURE), "--jsonl", option, "0"))


def test_unknown_format_exits_2_with_one_line() -> None:
    _assert_usage_error(replay(str(TEXT_FIXTURE), "--jsonl", "--format", "xml"))


def test_missing_file_argument_exits_2_with_one_line() -> None:
    _assert_usage_error(replay("--jsonl"))


def test_unknown_option_exits_2_with_one_line() -> None:
    _assert_usage_error(replay(str(TEXT_FIXTURE), "--jsonl", "--no-such-option"))


# ---- normal runs ----------------------------------------------------------------------


def test_dash_reads_standard_input() -> None:
    data = TEXT_FIXTURE.read_bytes()
    from_stdin = replay("-", "--jsonl", "--chunk-size", "13", stdin=data)
    from_file = replay(str(TEXT_FIXTURE), "--jsonl")
    assert from_stdin.returncode == 0
    assert from_stdin.stderr == b""
    items = parse_jsonl(from_stdin.stdout)
    check_invariants(items)
    assert without_message_id(items) == without_message_id(parse_jsonl(from_file.stdout))
    assert "".join(chunks_of(items, "text")) == "The capital of France is Paris."


def test_dash_reads_json_lines_from_standard_input() -> None:
    data = (FIXTURES / "vercel_ai" / "azure-text.1.chunks.txt").read_bytes()
    result = replay("-", "--jsonl", "--format", "jsonl", stdin=data)
    assert result.returncode == 0
    assert chunks_of(parse_jsonl(result.stdout), "text") == ["Hello"]


def test_exit_1_when_the_stream_reached_done_after_errors(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sse"
    path.write_bytes(b"data: {broken\n\n" + _event({"type": "error", "message": "boom"}))
    result = replay(str(path), "--jsonl")
    assert result.returncode == 1
    assert result.stderr == b""
    items = parse_jsonl(result.stdout)
    check_invariants(items)
    # the error the stream sent, and no second one for its end
    assert [e["kind"] for e in errors(items)] == ["decode_error", "server_error"]


def test_empty_input_gives_start_interruption_and_done(tmp_path: Path) -> None:
    path = tmp_path / "empty.sse"
    path.write_bytes(b"")
    result = replay(str(path), "--jsonl")
    assert result.returncode == 1  # the interruption is an error item
    items = parse_jsonl(result.stdout)
    assert [(i["type"], i.get("kind")) for i in items] == [
        ("start", None),
        ("error", "stream_interrupted"),
        ("done", None),
    ]


def test_u2028_in_a_json_string_stays_on_one_line(tmp_path: Path) -> None:
    text = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"
    path = tmp_path / "separators.sse"
    path.write_bytes(_delta(text) + COMPLETED)
    result = replay(str(path), "--jsonl")
    assert result.returncode == 0
    items = parse_jsonl(result.stdout)  # split on "\n" only
    assert [i["type"] for i in items] == ["start", "part_start", "text", "metadata", "done"]
    assert chunks_of(items, "text") == [text]


def test_max_event_bytes_option_caps_events(tmp_path: Path) -> None:
    path = tmp_path / "big.sse"
    path.write_bytes(_delta("x" * 500) + _delta("a") + COMPLETED)
    result = replay(str(path), "--jsonl", "--max-event-bytes", "200", "--chunk-size", "7")
    assert result.returncode == 1
    items = parse_jsonl(result.stdout)
    check_invariants(items)
    assert [e["kind"] for e in errors(items)] == ["decode_error"]
    assert chunks_of(items, "text") == ["a"]


def test_max_tool_input_bytes_option_caps_tool_input(tmp_path: Path) -> None:
    events: list[JSONObject] = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f"},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "12345"},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "6789"},
        {"type": "response.completed", "response": {"id": "r"}},
    ]
    path = tmp_path / "tool.sse"
    path.write_bytes(b"".join(_event(e) for e in events))
    result = replay(str(path), "--jsonl", "--max-tool-input-bytes", "6")
    assert result.returncode == 1
    items = parse_jsonl(result.stdout)
    check_invariants(items)
    assert [e["kind"] for e in errors(items)] == ["decode_error"]
    [call] = tool_calls(items)
    assert call["arguments"] == "12345"
    assert call["partial"] is True


def test_human_output_without_jsonl_exits_0() -> None:
    result = replay(str(TEXT_FIXTURE))
    assert result.returncode == 0
    assert b"Paris" in result.stdout


# ---- streaming behaviour --------------------------------------------------------------


def _read_lines(stream: IO[bytes], count: int, timeout: float) -> list[bytes]:
    """``count`` lines from a pipe, failing if they do not come within ``timeout`` seconds."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffer = b""
    try:
        while buffer.count(b"\n") < count:
            assert selector.select(timeout), f"no output after {timeout}s; got {buffer!r}"
            piece = stream.read1(4096)  # type: ignore[attr-defined]
            assert piece, f"output ended early: {buffer!r}"
            buffer += piece
    finally:
        selector.unregister(stream)
    return buffer.split(b"\n")[:count]


def test_output_is_flushed_after_each_input_chunk() -> None:
    process = subprocess.Popen(
        [*CLI, "-", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(_delta("first"))
        process.stdin.flush()
        # the rest is not written yet: the first items must already be out
        start, part, text = _read_lines(process.stdout, 3, timeout=20)
        assert json.loads(start)["type"] == "start"
        assert json.loads(part)["type"] == "part_start"
        assert json.loads(text) == {"type": "text", "chunk": "first"}
        process.stdin.write(_delta("second"))
        process.stdin.flush()
        [second] = _read_lines(process.stdout, 1, timeout=20)
        assert json.loads(second) == {"type": "text", "chunk": "second"}
        process.stdin.write(COMPLETED)
        process.stdin.close()
        rest = process.stdout.read()
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        assert process.stderr is not None
        process.stderr.close()
    assert [json.loads(line)["type"] for line in rest.splitlines()] == ["metadata", "done"]


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "long.sse"
    path.write_bytes(b"".join(_delta(f"piece {n} ") for n in range(40_000)) + COMPLETED)
    writer = subprocess.Popen(
        [*CLI, str(path), "--jsonl", "--chunk-size", "512"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert writer.stdout is not None
    assert writer.stderr is not None
    head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # only head reads it now
    first, _ = head.communicate(timeout=60)
    stderr = writer.stderr.read()
    returncode = writer.wait(timeout=60)
    writer.stderr.close()
    assert json.loads(first)["type"] == "start"
    assert stderr == b"", stderr.decode()
    assert returncode in (0, -13)  # quiet: no traceback, no error status
