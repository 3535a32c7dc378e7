"""The sinks: a JSON Lines log, a live terminal view and metrics, alone and fanned out."""

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from reactivex import abc
from reactivex import operators as ops
from rxresponses import (
    ApprovalRequest,
    Citation,
    Done,
    EncryptedReasoning,
    Error,
    ErrorKind,
    Item,
    JsonLinesSink,
    Metadata,
    MetricsSink,
    PartStart,
    Reasoning,
    Start,
    TerminalView,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
    Usage,
    encode_line,
    from_file,
    responses,
)
from rxresponses._http_cli import demo_recording_path
from rxresponses.http import build_request, stream_responses
from rxresponses.server import ReplayServer
from rxresponses.sinks import KEPT_ERRORS

from tests.helpers import as_json, check_invariants
from tests.test_http_source import Run

DEMO = Path(demo_recording_path())

CALL = ToolCall(
    id="fc_1",
    call_id="call_1",
    name="get_weather",
    arguments='{"city":"Lisbon","unit":"celsius"}',
    kind="function",
    partial=False,
)
ITEMS: list[Item] = [
    Start(message_id="00000000-0000-4000-8000-000000000000"),
    Metadata(response_id="resp_1", model="gpt-5"),
    PartStart(kind="reasoning_summary", index=0, id="rs_1"),
    Reasoning(chunk="Thinking "),
    Reasoning(chunk="hard."),
    PartStart(kind="text", index=1, id="msg_1", phase="final_answer"),
    Text(chunk="Hello"),
    Text(chunk=", world"),
    ToolRequestStart(id="fc_1", name="get_weather"),
    ToolRequestArg(id="fc_1", chunk=CALL.arguments),
    ToolRequestComplete(tool_call=CALL),
    EncryptedReasoning(id="rs_1", content="gAAAA"),
    Usage(tokens=TokenUsage(input_tokens=10, output_tokens=5, reasoning_tokens=3)),
    Done(stop_reason="end_turn"),
]


class Clock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def feed(sink: abc.ObserverBase[Item], items: list[Item]) -> None:
    for item in items:
        sink.on_next(item)
    sink.on_completed()


# --- JSON Lines ------------------------------------------------------------------------


def test_json_lines_sink_writes_each_item_as_a_line_flushed_as_it_comes(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    sink = JsonLinesSink.open(path)
    for count, item in enumerate(ITEMS, 1):
        sink.on_next(item)
        lines = path.read_bytes().split(b"\n")  # what another process would see now
        assert len(lines) == count + 1
        assert lines[-1] == b""
        assert lines[-2] == encode_line(item).rstrip(b"\n")
    sink.on_completed()
    objects = [json.loads(line) for line in path.read_text().splitlines()]
    assert objects == as_json(ITEMS)
    check_invariants(objects)


def test_json_lines_sink_without_flush_each_writes_its_lines_at_flush_in_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    sink = JsonLinesSink.open(path, flush_each=False)
    for item in ITEMS[:2]:
        sink.on_next(item)
    assert path.read_bytes() == b""  # gathered, not written yet
    sink.flush()
    assert path.read_bytes() == b"".join(map(encode_line, ITEMS[:2]))
    for item in ITEMS[2:]:
        sink.on_next(item)
    sink.on_completed()
    assert path.read_bytes() == b"".join(map(encode_line, ITEMS))


def test_json_lines_sink_without_flush_each_writes_once_64_kib_gathered() -> None:
    buffer = io.BytesIO()
    sink = JsonLinesSink(buffer, flush_each=False)
    line = encode_line(ITEMS[1])
    count = 0
    while not buffer.getvalue():
        sink.on_next(ITEMS[1])
        count += 1
    assert len(line) * (count - 1) < 64 * 1024 <= len(line) * count
    assert buffer.getvalue() == line * count


def test_json_lines_sink_closes_its_own_file_but_not_a_callers(tmp_path: Path) -> None:
    file = open(tmp_path / "a.jsonl", "wb")  # noqa: SIM115
    feed(JsonLinesSink(file, close=True), ITEMS[:1])
    assert file.closed
    buffer = io.BytesIO()
    feed(JsonLinesSink(buffer), ITEMS)
    assert not buffer.closed
    assert buffer.getvalue().count(b"\n") == len(ITEMS)


# --- terminal view ---------------------------------------------------------------------


def test_terminal_view_plain_text_when_not_a_terminal() -> None:
    out = io.StringIO()
    feed(TerminalView(out, clock=Clock()), ITEMS)
    text = out.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert "thinking: Thinking hard." in lines  # reasoning streams on one line
    assert "Hello, world" in lines  # text streams in place, chunk after chunk
    call = text.index("tool call get_weather [call_1]")
    assert text[call:].splitlines()[1:5] == ["{", '  "city": "Lisbon",', '  "unit": "celsius"', "}"]
    last = lines[-1]
    assert last.startswith("done: end_turn")
    assert "tokens in 10, out 5, reasoning 3" in last
    assert "first token after 3000 ms" in last  # start at 1 s, first reasoning at 4 s
    assert "items/s" in last


def test_terminal_view_dims_reasoning_and_defuses_control_characters_on_a_terminal() -> None:
    out = io.StringIO()
    view = TerminalView(out, color=True)
    feed(
        view,
        [ITEMS[0], Reasoning(chunk="hmm"), Text(chunk="ok\x1b]0;pwned\x07\x1b[2J!"), *ITEMS[-1:]],
    )
    text = out.getvalue()
    assert "\x1b[2mhmm\x1b[0m" in text
    assert "ok␛]0;pwned␇␛[2J!" in text
    assert "\x1b]0" not in text
    assert "\x1b[2J" not in text


def test_terminal_view_marks_partial_calls_and_shows_errors() -> None:
    out = io.StringIO()
    partial = ToolCall(
        id="fc_2", call_id=None, name="search", arguments='{"q": "li', kind="function", partial=True
    )
    error = Error(
        kind="stream_interrupted",
        code=None,
        message="connection lost",
        status=None,
        retryable=True,
        retry_after=None,
    )
    feed(
        TerminalView(out, stats=False),
        [ITEMS[0], Text(chunk="Hi"), error, ToolRequestComplete(tool_call=partial), Done(None)],
    )
    lines = out.getvalue().splitlines()
    assert lines == [
        "Hi",
        "error [stream_interrupted] connection lost (retryable)",
        "tool call search (partial) [fc_2]",
        '{"q": "li',
        "done: no stop reason",
    ]


def test_terminal_view_starts_each_new_part_on_a_line_of_its_own() -> None:
    out = io.StringIO()
    commentary = PartStart(kind="text", index=0, id="msg_1", phase="commentary")
    answer = PartStart(kind="text", index=1, id="msg_2", phase="final_answer")
    summary = PartStart(kind="reasoning_summary", index=2, id="rs_1")
    feed(
        TerminalView(out, stats=False),
        [
            ITEMS[0],
            commentary,
            Text(chunk="Got it"),
            answer,
            Text(chunk="Here"),
            summary,
            Reasoning(chunk="**One.**"),
            PartStart(kind="reasoning_summary", index=2, id="rs_1"),
            Reasoning(chunk="**Two.**"),
            Done("end_turn"),
        ],
    )
    assert out.getvalue().splitlines() == [
        "commentary: Got it",
        "answer: Here",
        "thinking: **One.**",
        "thinking: **Two.**",
        "done: end_turn",
    ]


def test_terminal_view_ends_the_line_when_stopped_before_done() -> None:
    out = io.StringIO()
    feed(TerminalView(out), [ITEMS[0], Text(chunk="Half an ans")])  # then take_until fired
    assert out.getvalue() == "Half an ans\nstopped before the end of the answer\n"


def _server_call(name: str, arguments: str = "{}", call_id: str | None = None) -> ToolCall:
    return ToolCall(
        id=f"{name}_1",
        call_id=call_id,
        name=name,
        arguments=arguments,
        kind="builtin",
        partial=False,
        provider_executed=True,
    )


def _view(items: list[Item], *, color: bool = False) -> str:
    out = io.StringIO()
    feed(TerminalView(out, stats=False, color=color), [ITEMS[0], *items])
    return out.getvalue()


def test_terminal_view_sets_commentary_apart_from_the_answer() -> None:
    text = _view(
        [
            PartStart(kind="text", index=1, id="msg_1", phase="commentary"),
            Text(chunk="Checking "),
            Text(chunk="the tool."),
            ToolRequestComplete(tool_call=CALL),
            PartStart(kind="text", index=3, id="msg_2", phase="final_answer"),
            Text(chunk="Sunny, "),
            Text(chunk="22 °C."),
            Done("end_turn"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "commentary: Checking the tool."
    assert lines[1] == "tool call get_weather [call_1] · for the caller to run"
    assert "answer: Sunny, 22 °C." in lines
    assert lines[-1] == "done: end_turn"


def test_terminal_view_without_commentary_shows_the_answer_bare() -> None:
    text = _view([PartStart(kind="text", index=0, id="msg_1"), Text(chunk="Hi."), Done("end_turn")])
    assert text.splitlines() == ["Hi.", "done: end_turn"]


def test_terminal_view_dims_commentary_but_not_the_answer_on_a_terminal() -> None:
    text = _view(
        [
            PartStart(kind="text", index=0, id="msg_1", phase="commentary"),
            Text(chunk="note"),
            PartStart(kind="text", index=1, id="msg_2", phase="final_answer"),
            Text(chunk="answer"),
            Done("end_turn"),
        ],
        color=True,
    )
    assert "\x1b[2mnote\x1b[0m" in text
    assert "\x1b[2manswer: \x1b[0manswer" in text


def test_terminal_view_puts_each_reasoning_part_on_its_own_line_apart_from_the_answer() -> None:
    text = _view(
        [
            PartStart(kind="reasoning_summary", index=0, id="rs_1"),
            Reasoning(chunk="First "),
            Reasoning(chunk="step."),
            PartStart(kind="reasoning_summary", index=0, id="rs_1"),
            Reasoning(chunk="Second step."),
            PartStart(kind="text", index=1, id="msg_1"),
            Text(chunk="Done."),
            Done("end_turn"),
        ]
    )
    assert text.splitlines()[:3] == ["thinking: First step.", "thinking: Second step.", "Done."]


def test_terminal_view_continues_a_message_resumed_after_a_tool_line() -> None:
    text = _view(
        [
            PartStart(kind="text", index=0, id="msg_1"),
            Text(chunk="Before"),
            ToolRequestComplete(tool_call=CALL),
            Text(chunk="After"),  # the same part: tool items do not end it
            Done("end_turn"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "Before"
    assert lines[-2:] == ["After", "done: end_turn"]


@pytest.mark.parametrize(
    ("call", "output", "line"),
    [
        (
            _server_call("web_search", '{"action":{"type":"search","query":"weather Lisbon"}}'),
            '{"status":"completed","sources":[{"url":"a"},{"url":"b"},{"url":"c"}]}',
            "web_search “weather Lisbon”: 3 sources",
        ),
        (
            _server_call("web_search"),
            '{"status":"completed","sources":null}',
            "web_search: 0 sources",
        ),
        (
            _server_call("file_search"),
            '{"status":"completed","results":[{}]}',
            "file_search: 1 result",
        ),
        (
            _server_call("code_interpreter"),
            '{"status":"completed","outputs":[{"type":"logs"},{"type":"image"}]}',
            "code_interpreter: ran, 2 outputs",
        ),
        (
            _server_call("code_interpreter"),
            '{"status":"failed","outputs":null}',
            "code_interpreter: failed, 0 outputs",
        ),
        (
            _server_call("image_generation"),
            '{"status":"completed","result":"' + "A" * 1_600_000 + '"}',
            "image_generation: 1.2 MB image",
        ),
        (
            _server_call("mcp", '{"server":"wiki","tool":"ask","arguments":{}}'),
            '{"output":"four chars","error":null}',
            "mcp wiki/ask: 10 chars",
        ),
        (
            _server_call("mcp", '{"server":"wiki","tool":"ask","arguments":{}}'),
            '{"output":null,"error":"denied"}',
            "mcp wiki/ask: error: denied",
        ),
        (
            _server_call("mcp_list_tools", '{"server":"wiki"}'),
            '{"tools":[{},{}],"error":null}',
            "mcp_list_tools wiki: 2 tools",
        ),
        (
            _server_call("image_generation"),
            '{"truncated":true}',
            "image_generation: output too large, cut",
        ),
        (_server_call("tool_search"), "not json", "tool_search: done"),
    ],
)
def test_terminal_view_shows_a_server_run_tool_as_one_line_with_what_it_did(
    call: ToolCall, output: str, line: str
) -> None:
    result = ToolResult(id=call.id, name=call.name, output=output)
    preview = ToolResult(id=call.id, name=call.name, output="{}", preliminary=True)
    text = _view(
        [
            ToolRequestStart(id=call.id, name=call.name, provider_executed=True),
            preview,  # previews are not shown
            ToolRequestComplete(tool_call=call),
            result,
            Done("end_turn"),
        ]
    )
    assert text.splitlines() == [line, "done: end_turn"]


def test_terminal_view_marks_a_failed_server_run_tool() -> None:
    search = _server_call("web_search")
    failed = ToolResult(
        id=search.id, name="web_search", output='{"status":"failed"}', is_error=True
    )
    text = _view([ToolRequestComplete(tool_call=search), failed, Done(None)], color=True)
    assert "\x1b[31mweb_search: failed, 0 sources\x1b[0m" in text


def test_terminal_view_numbers_citations_and_lists_them_as_links() -> None:
    paris = Citation(url="https://example.com/paris", title="Paris", start=0, end=5)
    text = _view(
        [
            PartStart(kind="text", index=0, id="msg_1"),
            Text(chunk="Paris"),
            paris,
            Text(chunk=" is big."),
            paris,
            Citation(file_id="file_1", filename="notes.txt"),
            Citation(quote="the city of light"),
            Done("end_turn"),
        ]
    )
    assert text.splitlines() == [
        "Paris[1] is big.[1][2][3]",
        "[1] Paris <https://example.com/paris>",
        "[2] notes.txt (file_1)",
        "[3] “the city of light”",
        "done: end_turn",
    ]


def test_terminal_view_shows_an_approval_request_and_a_call_the_caller_must_run() -> None:
    mcp = _server_call("mcp", '{"server":"wiki","tool":"ask","arguments":{"q":"rx"}}')
    text = _view(
        [
            ToolRequestComplete(tool_call=mcp),
            ApprovalRequest(id="mcp_1", tool_id="mcp_1"),
            ToolRequestComplete(tool_call=CALL),
            Done("tool_use"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "approval needed: mcp wiki/ask [mcp_1]"
    assert lines[1] == "tool call get_weather [call_1] · for the caller to run"
    assert lines[-1] == "done: tool_use"


def test_terminal_view_defuses_control_characters_in_tool_lines_and_citations() -> None:
    search = _server_call("web_search", '{"action":{"query":"x\\u001b[2Jy"}}')
    text = _view(
        [
            ToolRequestComplete(tool_call=search),
            ToolResult(id=search.id, name="web_search", output='{"sources":[]}'),
            Text(chunk="t"),
            Citation(url="https://e.com/\x1b]0;pwned\x07", title="t"),
            Done("end_turn"),
        ],
        color=True,
    )
    assert "\x1b[2J" not in text
    assert "\x1b]0" not in text
    assert "x␛[2Jy" in text


# --- metrics ---------------------------------------------------------------------------


def test_metrics_sink_counts_times_tokens_and_errors() -> None:
    metrics = MetricsSink(clock=Clock())
    error = Error(
        kind="decode_error", code=None, message="x", status=None, retryable=False, retry_after=None
    )
    feed(metrics, [*ITEMS[:-1], error, ITEMS[-1]])
    assert metrics.items == len(ITEMS) + 1
    assert metrics.time_to_first_token == 3.0  # start at 1, first reasoning at 4
    assert metrics.time_to_first_text == 6.0
    assert metrics.items_per_second == pytest.approx(15 / 14)
    summary = metrics.summary()
    assert summary["input_tokens"] == 10
    assert summary["output_tokens"] == 5
    assert summary["reasoning_tokens"] == 3
    assert summary["errors"] == ["decode_error"]
    assert summary["error_count"] == 1
    assert summary["tool_calls"] == 1
    assert summary["stop_reason"] == "end_turn"
    assert summary["text_chars"] == len("Hello, world")


def test_metrics_sink_keeps_the_first_errors_and_counts_them_all() -> None:
    # A stream of broken events gives an error item for each: the sink must not
    # grow with them.
    metrics = MetricsSink(clock=Clock())
    kinds: list[ErrorKind] = ["decode_error", "server_error"]
    errors = [
        Error(kind=kind, code=None, message=str(i), status=None, retryable=False, retry_after=None)
        for i, kind in enumerate(kinds * 5_000)
    ]

    feed(metrics, [*ITEMS[:-1], *errors, ITEMS[-1]])

    assert metrics.error_count == 10_000
    assert metrics.errors == errors[:KEPT_ERRORS]
    summary = metrics.summary()
    assert summary["error_count"] == 10_000
    assert summary["errors"] == kinds * (KEPT_ERRORS // 2)


def test_metrics_mark_start_counts_from_the_request() -> None:
    metrics = MetricsSink(clock=Clock())
    metrics.mark_start()  # at 1 s; start arrives at 2 s, the first reasoning at 5 s
    feed(metrics, ITEMS)
    assert metrics.time_to_first_token == 4.0


# --- fan-out over HTTP -----------------------------------------------------------------


def _lines(path: Path) -> Iterator[dict[str, object]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        yield json.loads(line)


@pytest.mark.asyncio
async def test_sinks_fanned_out_from_one_http_stream_see_the_same_items(tmp_path: Path) -> None:
    log = tmp_path / "items.jsonl"
    out = io.StringIO()
    async with ReplayServer([DEMO], events_per_second=None) as server:
        items = stream_responses(build_request("m", "hi"), base_url=server.base_url)
        published = items.pipe(ops.publish())
        metrics = MetricsSink()
        run = Run()
        published.subscribe(JsonLinesSink.open(log))
        published.subscribe(TerminalView(out))
        published.subscribe(metrics)
        published.subscribe(run.on_next, run.on_error, run.on_completed)
        published.connect()
        received = await run.wait()
        assert server.stats.requests == 1
    assert list(_lines(log)) == as_json(received)
    assert metrics.items == len(received)
    assert metrics.tool_calls == 2
    text = "".join(item.chunk for item in received if isinstance(item, Text))
    assert text in out.getvalue()
    # The same answer, replayed from the file, gives the same view (but the timing).
    replay_out = io.StringIO()
    responses(from_file(DEMO)).subscribe(TerminalView(replay_out, stats=False))
    assert out.getvalue().rsplit("\n", 2)[0] == replay_out.getvalue().rsplit("\n", 2)[0]
