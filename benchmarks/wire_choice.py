"""CPU time per event of the three wires, on streams of the same shape.

Each stream has N events: runs of 40 one-token text deltas, then a tool call
of 8 argument pieces, as real servers send them (the Chat chunks with the
fields OpenAI puts on every chunk, the Anthropic events with their ``event:``
names, the Responses stream from ``benchmarks.streamgen``). The whole chain
(``responses(from_bytes(data), wire=...)``) is timed in turns, and ``auto``
beside each wire shows what telling the wire costs.

    .venv/bin/python -m benchmarks.wires [--events N] [--runs N]
"""

import argparse
import json
from collections.abc import Callable
from typing import Any

from rxresponses import from_bytes, responses

from ._util import header, medians, timed_in_turns
from .streamgen import build


def _sse(events: list[dict[str, Any]], named: bool) -> bytes:
    out = []
    for event in events:
        head = f"event: {event['type']}\n" if named else ""
        out.append(f"{head}data: {json.dumps(event, separators=(',', ':'))}\n\n")
    return "".join(out).encode()


def chat_stream(n: int) -> bytes:
    """``n`` Chat Completions chunks: text runs and tool calls, then ``[DONE]``."""
    chunks: list[dict[str, Any]] = []
    for i in range(n):
        if i % 48 < 40:
            delta: dict[str, Any] = {"content": f" tok{i}"}
        elif i % 48 == 40:
            entry = {"index": i // 48, "id": f"call_{i}", "type": "function"}
            delta = {"tool_calls": [{**entry, "function": {"name": "f", "arguments": ""}}]}
        else:
            delta = {"tool_calls": [{"index": i // 48, "function": {"arguments": "1"}}]}
        chunks.append(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4o",
                "system_fingerprint": "fp_1",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
                "usage": None,
                "obfuscation": "abcd",
            }
        )
    chunks.append(
        {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )
    return _sse(chunks, named=False) + b"data: [DONE]\n\n"


def anthropic_stream(n: int) -> bytes:
    """About ``n`` Anthropic events: text blocks of 40 deltas and tool blocks of 8 pieces."""
    usage = {"input_tokens": 5, "output_tokens": 1}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude"}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**message, "content": [], "usage": usage}}
    ]
    index = 0
    while len(events) < n:
        text = {"type": "text", "text": ""}
        events.append({"type": "content_block_start", "index": index, "content_block": text})
        for i in range(40):
            delta = {"type": "text_delta", "text": f" tok{i}"}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
        index += 1
        tool = {"type": "tool_use", "id": f"toolu_{index}", "name": "f", "input": {}}
        events.append({"type": "content_block_start", "index": index, "content_block": tool})
        for _ in range(8):
            delta = {"type": "input_json_delta", "partial_json": "1"}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
        index += 1
    events.append({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage})
    events.append({"type": "message_stop"})
    return _sse(events, named=True)


def _count(data: bytes) -> int:
    return data.count(b"\n\n")


def _chain(data: bytes, wire: str) -> Callable[[], object]:
    def run() -> object:
        items: list[object] = []
        responses(from_bytes(data), wire=wire).subscribe(items.append)  # type: ignore[arg-type]
        return items

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    header("wires: CPU time per event of the whole chain")
    streams = {
        "responses": build(options.events),
        "chat": chat_stream(options.events),
        "anthropic": anthropic_stream(options.events),
    }
    runs = {}
    for wire, data in streams.items():
        runs[wire] = _chain(data, wire)
        runs[f"{wire} (auto)"] = _chain(data, "auto")
    times = medians(timed_in_turns(runs, options.runs))
    for name, seconds in times.items():
        data = streams[name.split(" ")[0]]
        events = _count(data)
        print(
            f"{name:<18} {events:>7} events {len(data) / events:>6.0f} B/event"
            f" {seconds / events * 1e6:>6.2f} µs/event"
        )


if __name__ == "__main__":
    main()
