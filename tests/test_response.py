"""The finished answer: one stream's items folded into one immutable ``Response``."""

import asyncio
from typing import Any

import msgspec
import pytest
import reactivex
from hypothesis import given
from hypothesis import strategies as st
from rxresponses import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
    Item,
    Message,
    Metadata,
    PartStart,
    ReasoningPart,
    Refusal,
    Response,
    Start,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
    Usage,
    final_response,
    from_bytes,
    from_file,
    response_of,
    responses,
    to_response,
)
from rxresponses import Reasoning as ReasoningChunk
from rxresponses.http import build_request, stream_responses
from rxresponses.server import ReplayServer

from tests.helpers import FIXTURES, run_items

START = Start(message_id="00000000-0000-4000-8000-000000000000")
LOOKUP = ToolCall(
    id="fc_1",
    call_id="call_1",
    name="get_capital",
    arguments='{"country":"France"}',
    kind="function",
    partial=False,
)
SEARCH = ToolCall(
    id="ws_1",
    call_id=None,
    name="web_search",
    arguments='{"action":{"type":"search","query":"capital of France"}}',
    kind="builtin",
    partial=False,
    provider_executed=True,
)
TIMEOUT = Error(
    kind="timeout", code=None, message="no bytes", status=None, retryable=True, retry_after=None
)
PHASED = FIXTURES / "pydantic_ai" / "test_openai_responses_phase_streamed_on_part_start.0.sse"


def collect(source: reactivex.Observable[Item]) -> list[Response]:
    out: list[Response] = []
    completed: list[bool] = []
    source.pipe(to_response()).subscribe(out.append, None, lambda: completed.append(True))
    assert completed == [True]
    return out


# --- messages and parts --------------------------------------------------------------------


def test_text_is_the_answer_and_commentary_is_kept_apart() -> None:
    response = response_of(
        [
            START,
            PartStart(kind="text", index=1, id="msg_1", phase="commentary"),
            Text(chunk="Let me look "),
            Text(chunk="that up."),
            ToolRequestComplete(tool_call=LOOKUP),
            PartStart(kind="text", index=3, id="msg_2", phase="final_answer"),
            Text(chunk="Paris."),
            Done(stop_reason="end_turn"),
        ]
    )
    assert response.text == "Paris."
    assert response.commentary == "Let me look that up."
    assert [(m.id, m.index, m.phase, m.text) for m in response.messages] == [
        ("msg_1", 1, "commentary", "Let me look that up."),
        ("msg_2", 3, "final_answer", "Paris."),
    ]


def test_a_message_resumed_after_another_part_stays_one_message() -> None:
    response = response_of(
        [
            START,
            PartStart(kind="text", index=0, id="msg_1"),
            Text(chunk="Hel"),
            PartStart(kind="reasoning_summary", index=1, id="rs_1"),
            ReasoningChunk(chunk="hmm"),
            PartStart(kind="text", index=0, id="msg_1"),
            Text(chunk="lo"),
            Done(stop_reason="end_turn"),
        ]
    )
    assert [m.text for m in response.messages] == ["Hello"]
    assert response.text == "Hello"
    assert response.reasoning == (ReasoningPart("rs_1", 1, "reasoning_summary", "hmm"),)


def test_refusal_and_citations_belong_to_the_message_they_came_in() -> None:
    cited = Citation(url="https://example.com/paris", title="Paris", start=0, end=5)
    response = response_of(
        [
            START,
            PartStart(kind="text", index=0, id="msg_1"),
            Text(chunk="Paris"),
            cited,
            PartStart(kind="refusal", index=0, id="msg_1"),
            Refusal(chunk="I can't say more."),
            Done(stop_reason="end_turn"),
        ]
    )
    assert response.messages == (Message("msg_1", 0, None, "Paris", "I can't say more.", (cited,)),)
    assert response.refusal == "I can't say more."


def test_each_reasoning_part_start_begins_a_part_and_summary_and_raw_stay_apart() -> None:
    response = response_of(
        [
            START,
            PartStart(kind="reasoning_summary", index=0, id="rs_1"),
            ReasoningChunk(chunk="First."),
            PartStart(kind="reasoning_summary", index=0, id="rs_1"),
            ReasoningChunk(chunk="Second."),
            PartStart(kind="reasoning", index=0, id="rs_1"),
            ReasoningChunk(chunk="raw"),
            EncryptedReasoning(id="rs_1", content="gAAA"),
            Done(stop_reason="end_turn"),
        ]
    )
    assert [(part.kind, part.text) for part in response.reasoning] == [
        ("reasoning_summary", "First."),
        ("reasoning_summary", "Second."),
        ("reasoning", "raw"),
    ]
    assert response.reasoning_text == "First.\n\nSecond.\n\nraw"
    assert response.encrypted_reasoning == (EncryptedReasoning(id="rs_1", content="gAAA"),)
    assert response.text == ""


def test_chunks_without_part_start_form_one_message_and_one_reasoning_part() -> None:
    response = response_of(
        [START, ReasoningChunk(chunk="a"), Text(chunk="Hi"), Text(chunk="!"), Done("end_turn")]
    )
    assert response.messages == (Message(None, None, None, "Hi!", ""),)
    assert response.reasoning == (ReasoningPart(None, None, None, "a"),)


# --- tools, usage, errors ------------------------------------------------------------------


def test_tools_results_approvals_and_opaque_blobs_keep_their_arrival_order() -> None:
    mcp = ToolCall(
        id="mcpr_1",
        call_id=None,
        name="mcp",
        arguments='{"server":"deepwiki","tool":"ask","arguments":{}}',
        kind="builtin",
        partial=False,
        provider_executed=True,
        namespace="deepwiki",
    )
    cut = ToolCall(
        id="fc_2", call_id="call_2", name="x", arguments='{"a', kind="function", partial=True
    )
    preview = ToolResult(id="ig_1", name="image_generation", output="{}", preliminary=True)
    result = ToolResult(id="ws_1", name="web_search", output='{"status":"completed"}')
    items: list[Item] = [
        START,
        EncryptedReasoning(id="rs_1", content="gAAA"),
        ToolRequestStart(id="ws_1", name="web_search", provider_executed=True),
        ToolRequestComplete(tool_call=SEARCH),
        result,
        preview,
        ToolRequestComplete(tool_call=LOOKUP),
        ToolRequestComplete(tool_call=mcp),
        ApprovalRequest(id="mcpr_1", tool_id="mcpr_1"),
        Compaction(id="cmp_1", content="enc"),
        ToolRequestComplete(tool_call=cut),
        Done(stop_reason="tool_use"),
    ]
    response = response_of(items)
    assert [type(entry).__name__ for entry in response.output] == [
        "EncryptedReasoning",
        "ToolRequestComplete",
        "ToolResult",
        "ToolRequestComplete",
        "ToolRequestComplete",
        "ApprovalRequest",
        "Compaction",
        "ToolRequestComplete",
    ]
    assert response.tool_calls == (SEARCH, LOOKUP, mcp, cut)
    assert response.tool_results == (result,)  # the preview is left out
    assert response.approval_requests == (ApprovalRequest(id="mcpr_1", tool_id="mcpr_1"),)
    assert response.compactions == (Compaction(id="cmp_1", content="enc"),)
    assert response.calls_to_run == (LOOKUP,)  # not server-run, not cut short


def test_ids_usage_stop_reason_errors_and_last_sequence_number_are_kept() -> None:
    tokens = TokenUsage(input_tokens=10, output_tokens=5, reasoning_tokens=3)
    response = response_of(
        [
            START,
            Metadata(response_id="resp_1", model="gpt-5"),
            Metadata(response_id="resp_other", model="other"),
            Text(chunk="Hi"),
            TIMEOUT,
            Usage(tokens=tokens),
            Done(stop_reason=None, last_sequence_number=41),
        ]
    )
    assert (response.response_id, response.model) == ("resp_1", "gpt-5")
    assert response.usage == tokens
    assert response.errors == (TIMEOUT,)
    assert response.stop_reason is None
    assert response.last_sequence_number == 41
    assert not response.ok
    assert response_of([START, Done("end_turn")]).ok


# --- the operator and the awaitable --------------------------------------------------------


def test_to_response_emits_one_response_at_done_and_ignores_items_after_it() -> None:
    items: list[Item] = [START, Text(chunk="Hi"), Done("end_turn"), Text(chunk="late")]
    assert collect(reactivex.from_iterable(items)) == [
        Response(output=(Message(None, None, None, "Hi", ""),), stop_reason="end_turn")
    ]


def test_to_response_gives_the_response_of_items_that_end_without_done() -> None:
    [response] = collect(reactivex.from_iterable([START, Text(chunk="Half")]))
    assert response.text == "Half"
    assert response.stop_reason is None


def test_each_subscription_folds_its_own_response() -> None:
    folded = responses(from_file(PHASED)).pipe(to_response())
    first: list[Response] = []
    second: list[Response] = []
    folded.subscribe(first.append)
    folded.subscribe(second.append)
    assert len(first) == 1
    assert first == second


def test_to_response_passes_an_upstream_exception_on() -> None:
    failures: list[Exception] = []
    reactivex.throw(RuntimeError("caller's bug")).pipe(to_response()).subscribe(
        on_error=failures.append
    )
    assert [str(failure) for failure in failures] == ["caller's bug"]


def test_a_recorded_stream_folds_to_what_its_items_say() -> None:
    data = PHASED.read_bytes()
    items = run_items(data)
    response = response_of(items)
    assert collect(responses(from_bytes(data))) == [response]
    chunks = "".join(item.chunk for item in items if isinstance(item, Text))
    assert "".join(message.text for message in response.messages) == chunks
    assert "PotatoLand" in chunks
    [call] = response.calls_to_run
    assert (call.name, call.arguments) == ("get_capital", '{"country":"PotatoLand"}')
    assert response.model == "gpt-5.5-2026-04-23"
    assert len(response.encrypted_reasoning) == 1
    assert response.usage is not None
    assert response.usage.reasoning_tokens == 26


@pytest.mark.asyncio
async def test_final_response_awaits_the_answer_over_http() -> None:
    async with ReplayServer([PHASED], events_per_second=None) as server:
        items = stream_responses(build_request("m", "hi"), base_url=server.base_url)
        response = await final_response(items)
    assert response.response_id is not None
    assert response.response_id.startswith("resp_")
    assert [call.name for call in response.calls_to_run] == ["get_capital"]
    assert response.errors == ()


@pytest.mark.asyncio
async def test_cancelling_final_response_closes_the_request() -> None:
    async with ReplayServer([PHASED], events_per_second=2) as server:
        items = stream_responses(build_request("m", "hi"), base_url=server.base_url)
        waiting = asyncio.ensure_future(final_response(items))
        assert await server.stats.wait_for(lambda stats: stats.active == 1, timeout=5)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await server.stats.wait_for_disconnect()


# --- for every input -----------------------------------------------------------------------

_ids = st.sampled_from([None, "msg_1", "msg_2", "rs_1"])
_indexes = st.sampled_from([None, 0, 1])
_chunk = st.text(min_size=1, max_size=4)
_item: st.SearchStrategy[Item] = st.one_of(
    st.builds(
        PartStart,
        kind=st.sampled_from(["text", "refusal", "reasoning", "reasoning_summary"]),
        index=_indexes,
        id=_ids,
        phase=st.sampled_from([None, "commentary", "final_answer"]),
    ),
    st.builds(Text, chunk=_chunk),
    st.builds(Refusal, chunk=_chunk),
    st.builds(ReasoningChunk, chunk=_chunk),
    st.builds(Citation, url=st.just("https://example.com"), start=_indexes, end=_indexes),
    st.just(ToolRequestComplete(tool_call=LOOKUP)),
    st.just(ToolRequestArg(id="fc_1", chunk="{")),
    st.just(TIMEOUT),
)


def _total(items: list[Any], kind: type[Any]) -> int:
    return sum(len(item.chunk) for item in items if type(item) is kind)


@given(st.lists(_item, max_size=30))
def test_no_chunk_is_lost_and_the_response_round_trips_through_json(items: list[Item]) -> None:
    response = response_of([START, *items, Done(stop_reason="end_turn")])
    assert sum(len(m.text) for m in response.messages) == _total(items, Text)
    assert sum(len(m.refusal) for m in response.messages) == _total(items, Refusal)
    assert sum(len(p.text) for p in response.reasoning) == _total(items, ReasoningChunk)
    assert sum(len(m.citations) for m in response.messages) == sum(
        type(item) is Citation for item in items
    )
    keys = [(m.id, m.index) for m in response.messages]
    assert len(keys) == len(set(keys))  # one message per (id, index)
    encoded = msgspec.json.encode(response)
    assert msgspec.json.decode(encoded, type=Response) == response


@given(st.lists(_item, max_size=30))
def test_the_operator_and_the_list_fold_agree(items: list[Item]) -> None:
    stream = [START, *items, Done(stop_reason="end_turn")]
    assert collect(reactivex.from_iterable(stream)) == [response_of(stream)]
