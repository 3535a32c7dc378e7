"""The behaviours the original implementation pinned down, through the whole chain."""

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from rxresponses import (
    Error,
    PartStart,
    Reasoning,
    Start,
    Text,
    ToolRequestArg,
    ToolRequestStart,
    Usage,
    responses,
)
from rxresponses.items import Done, EncryptedReasoning, TokenUsage

from tests.wire import (
    args_delta,
    args_done,
    completed,
    function_call_added,
    reasoning_delta,
    reasoning_item_done,
    run_events,
    text_delta,
    tool_calls,
    types,
    usage,
)


def test_text_stream_gives_start_texts_usage_and_end_turn() -> None:
    items = run_events(
        [text_delta("Hello"), text_delta(" world"), completed("completed", usage(10, 5))]
    )

    assert isinstance(items[0], Start)
    assert items[1:4] == [
        PartStart(kind="text", index=0),
        Text(chunk="Hello"),
        Text(chunk=" world"),
    ]
    assert isinstance(items[4], Usage)
    assert (items[4].tokens.input_tokens, items[4].tokens.output_tokens) == (10, 5)
    assert items[5] == Done(stop_reason="end_turn")
    assert len(items) == 6


def test_tool_call_stream_gives_start_pieces_and_whole_call() -> None:
    items = run_events(
        [
            function_call_added(0, "fc_1", "call_1", "read_file"),
            args_delta('{"path":'),
            args_delta('"foo.rs"}'),
            args_done('{"path":"foo.rs"}'),
            completed("completed", usage(20, 10)),
        ]
    )

    assert isinstance(items[0], Start)
    assert items[1] == ToolRequestStart(id="fc_1", name="read_file")
    assert items[2] == ToolRequestArg(id="fc_1", chunk='{"path":')
    assert items[3] == ToolRequestArg(id="fc_1", chunk='"foo.rs"}')
    [call] = tool_calls(items)
    assert (call.id, call.call_id, call.name) == ("fc_1", "call_1", "read_file")
    assert call.arguments == '{"path":"foo.rs"}'
    assert call.kind == "function"
    assert call.partial is False


def test_error_event_is_a_retryable_server_error_without_status() -> None:
    items = run_events([{"type": "error", "message": "Rate limit exceeded"}])

    assert isinstance(items[0], Start)
    error = items[1]
    assert isinstance(error, Error)
    assert error.kind == "server_error"
    assert error.status is None
    assert error.retryable is True
    assert error.message == "Rate limit exceeded"


def test_reasoning_deltas_become_reasoning_items() -> None:
    items = run_events(
        [reasoning_delta("Thinking about"), reasoning_delta(" the problem"), completed()]
    )

    assert items[1:4] == [
        PartStart(kind="reasoning_summary", index=0),
        Reasoning(chunk="Thinking about"),
        Reasoning(chunk=" the problem"),
    ]


def test_incomplete_status_gives_length_stop_reason() -> None:
    items = run_events([completed("incomplete")])

    assert items[-1] == Done(stop_reason="length")


def test_upstream_failure_is_a_retryable_stream_interrupted_then_done() -> None:
    def failing(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        observer.on_error(ConnectionResetError("connection lost"))
        return Disposable()

    items: list[object] = []
    errors: list[Exception] = []
    responses(Observable(failing)).subscribe(items.append, errors.append)

    assert errors == []
    assert types(items) == ["start", "error", "done"]  # type: ignore[arg-type]
    error = items[1]
    assert isinstance(error, Error)
    assert error.kind == "stream_interrupted"
    assert error.retryable is True
    assert "connection lost" in error.message
    assert items[2] == Done(stop_reason=None)


def test_encrypted_reasoning_comes_from_output_item_done() -> None:
    items = run_events([reasoning_item_done("enc-blob-data"), completed()])

    assert EncryptedReasoning(id="r_1", content="enc-blob-data") in items


def test_usage_forwards_cache_read_and_reasoning_tokens() -> None:
    items = run_events([completed("completed", usage(120, 80, cached=50, reasoning=30))])

    [found] = [item for item in items if isinstance(item, Usage)]
    assert found.tokens == TokenUsage(
        input_tokens=120,
        output_tokens=80,
        cache_read_tokens=50,
        cache_creation_tokens=None,
        reasoning_tokens=30,
    )


def test_completed_with_full_response_object_and_no_output_gives_usage_and_end_turn() -> None:
    event = {
        "type": "response.completed",
        "sequence_number": 1,
        "response": {
            "id": "resp_1",
            "object": "response",
            "created_at": 1000,
            "status": "completed",
            "background": False,
            "completed_at": 2000,
            "error": None,
            "model": "test-model",
            "usage": usage(100, 20, cached=0, reasoning=10),
        },
    }
    items = run_events([event])

    [found] = [item for item in items if isinstance(item, Usage)]
    assert (found.tokens.input_tokens, found.tokens.output_tokens) == (100, 20)
    assert found.tokens.reasoning_tokens == 10
    assert found.tokens.cache_read_tokens is None  # zero counts as absent
    assert items[-1] == Done(stop_reason="end_turn", last_sequence_number=1)


def test_reasoning_item_done_without_encrypted_content_gives_nothing() -> None:
    items = run_events([reasoning_item_done(None), completed()])

    assert types(items) == ["start", "done"]
