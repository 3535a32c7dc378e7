"""A deterministic, realistic Responses API stream of N events, as server-sent events.

The shapes follow recorded OpenAI streams: ``event:`` + ``data:`` lines, JSON
with ``type`` first, ``sequence_number`` on every event, ``obfuscation``
padding on deltas, ``item_id`` on every item event. One response holds, in
rounds: a reasoning item (summary deltas, ~2 KB ``encrypted_content``), a
message (text deltas of 1-8 tokens, some of them non-ASCII), and two or three
function calls with argument deltas; with the content-part, summary-part and
``.done`` events a real server sends, and a final ``response.completed`` with
the whole response object (and, unless ``full_final=False``, its whole output
list) and usage.

    python -m benchmarks.streamgen --events 2000 > stream.sse
"""

import argparse
import base64
import itertools
import random
import sys
from collections.abc import Iterator
from typing import Any

import msgspec

_encode = msgspec.json.encode

#: Tokens the text and reasoning deltas are made of (1 to 8 per delta).
_TOKENS = (
    " the",
    " stream",
    " of",
    " events",
    " is",
    " parsed",
    " into",
    " items",
    ",",
    ".",
    " and",
    " café",
    " naïve",
    " résumé",
    " Zürich",
    " 東京",
    "の",
    "天気",
    " —",
    " 🙂",
    " Ünïcödé",
    " λ",
    " “quoted”",
    "\n\n",
    " **bold**",
    " `code`",
    " 42",
    " 3.14",
)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TOOLS = (
    ("get_weather", "location"),
    ("search_docs", "query"),
    ("read_file", "path"),
)
_MODEL = "gpt-5.1-codex-max"


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seq = 0

    def ident(self, prefix: str, n: int = 48) -> str:
        return prefix + self.rng.randbytes(n // 2).hex()

    def alnum(self, n: int) -> str:
        return "".join(self.rng.choices(_ALNUM, k=n))

    def obfuscation(self, delta: str) -> str:
        return self.alnum(max(2, 16 - len(delta)))

    def text(self) -> str:
        return "".join(self.rng.choices(_TOKENS, k=self.rng.randint(1, 8)))

    def event(self, type_: str, fields: dict[str, Any]) -> bytes:
        body: dict[str, Any] = {"type": type_, "sequence_number": self.seq}
        body.update(fields)
        self.seq += 1
        return b"event: " + type_.encode() + b"\ndata: " + _encode(body) + b"\n\n"


def _response(resp_id: str, status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    tools = [
        {
            "type": "function",
            "description": f"Tool {name}.",
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {arg: {"type": "string"}},
                "required": [arg],
                "additionalProperties": False,
            },
            "strict": True,
        }
        for name, arg in _TOOLS
    ]
    return {
        "id": resp_id,
        "object": "response",
        "created_at": 1765552659,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": _MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": "high", "summary": "detailed"},
        "safety_identifier": None,
        "service_tier": "auto",
        "store": False,
        "temperature": 1,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": tools,
        "top_logprobs": 0,
        "top_p": 0.985,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _reasoning(g: _Gen, index: int, deltas: int, output: list[Any] | None) -> Iterator[bytes]:
    item_id = g.ident("rs_")
    blob = "gAAAAAB" + base64.b64encode(g.rng.randbytes(1530)).decode()
    item = {"id": item_id, "type": "reasoning", "encrypted_content": blob, "summary": []}
    yield g.event("response.output_item.added", {"output_index": index, "item": item})
    where = {"item_id": item_id, "output_index": index, "summary_index": 0}
    empty = {"type": "summary_text", "text": ""}
    yield g.event("response.reasoning_summary_part.added", {**where, "part": empty})
    pieces = []
    for _ in range(deltas):
        delta = g.text()
        pieces.append(delta)
        fields = {**where, "delta": delta, "obfuscation": g.obfuscation(delta)}
        yield g.event("response.reasoning_summary_text.delta", fields)
    text = "".join(pieces)
    yield g.event("response.reasoning_summary_text.done", {**where, "text": text})
    part = {"type": "summary_text", "text": text}
    yield g.event("response.reasoning_summary_part.done", {**where, "part": part})
    blob = "gAAAAAB" + base64.b64encode(g.rng.randbytes(1530)).decode()
    done = {"id": item_id, "type": "reasoning", "encrypted_content": blob, "summary": [part]}
    yield g.event("response.output_item.done", {"output_index": index, "item": done})
    if output is not None:
        output.append(done)


def _message(g: _Gen, index: int, deltas: int, output: list[Any] | None) -> Iterator[bytes]:
    item_id = g.ident("msg_")
    item = {
        "id": item_id,
        "type": "message",
        "status": "in_progress",
        "content": [],
        "role": "assistant",
    }
    yield g.event("response.output_item.added", {"output_index": index, "item": item})
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    yield g.event("response.content_part.added", {**where, "part": empty})
    pieces = []
    for _ in range(deltas):
        delta = g.text()
        pieces.append(delta)
        fields = {**where, "delta": delta, "logprobs": [], "obfuscation": g.obfuscation(delta)}
        yield g.event("response.output_text.delta", fields)
    text = "".join(pieces)
    yield g.event("response.output_text.done", {**where, "text": text, "logprobs": []})
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    yield g.event("response.content_part.done", {**where, "part": part})
    done = {**item, "status": "completed", "content": [part]}
    yield g.event("response.output_item.done", {"output_index": index, "item": done})
    if output is not None:
        output.append(done)


def _arguments(g: _Gen, arg: str) -> str:
    value = "".join(g.rng.choices(_TOKENS, k=g.rng.randint(3, 12))).strip()
    return _encode({arg: value, "limit": g.rng.randint(1, 50), "strict": True}).decode()


def _split(g: _Gen, text: str, parts: int) -> list[str]:
    parts = max(1, min(parts, len(text)))
    cuts = sorted(g.rng.sample(range(1, len(text)), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _calls(g: _Gen, first: int, deltas: list[int], output: list[Any] | None) -> Iterator[bytes]:
    # Parallel calls: all are announced, then their arguments stream one call after the other.
    for k, count in enumerate(deltas):
        index = first + k
        name, arg = _TOOLS[k % len(_TOOLS)]
        item_id, call_id = g.ident("fc_"), "call_" + g.alnum(24)
        arguments = _arguments(g, arg)
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id,
            "name": name,
        }
        yield g.event("response.output_item.added", {"output_index": index, "item": item})
        where = {"item_id": item_id, "output_index": index}
        for piece in _split(g, arguments, count):
            fields = {**where, "delta": piece, "obfuscation": g.obfuscation(piece)}
            yield g.event("response.function_call_arguments.delta", fields)
        yield g.event("response.function_call_arguments.done", {**where, "arguments": arguments})
        done = {**item, "status": "completed", "arguments": arguments}
        yield g.event("response.output_item.done", {"output_index": index, "item": done})
        if output is not None:
            output.append(done)


def iter_events(
    n_events: int = 200_000, *, seed: int = 0, full_final: bool = True
) -> Iterator[bytes]:
    """The stream's events, one SSE block (``event:``, ``data:``, blank line) each.

    Exactly ``max(n_events, 9)`` events. With ``full_final=False`` the final
    ``response.completed`` carries an empty output list (every event stays small).
    """
    g = _Gen(seed)
    n_events = max(n_events, 9)
    resp_id = g.ident("resp_")
    output: list[Any] | None = [] if full_final else None
    yield g.event("response.created", {"response": _response(resp_id, "in_progress", [], None)})
    yield g.event("response.in_progress", {"response": _response(resp_id, "in_progress", [], None)})
    left = n_events - 3  # created, in_progress, completed
    index = 0
    while True:
        rounds = g.rng.randint(15, 60), g.rng.randint(80, 400)
        calls = [g.rng.randint(8, 40) for _ in range(g.rng.randint(2, 3))]
        size = rounds[0] + 5 + rounds[1] + 5 + sum(c + 3 for c in calls)
        if size + 6 > left:
            break
        yield from _reasoning(g, index, rounds[0], output)
        yield from _message(g, index + 1, rounds[1], output)
        yield from _calls(g, index + 2, calls, output)
        index += 2 + len(calls)
        left -= size
    yield from _message(g, index, left - 5, output)  # the last answer fills the count
    usage = {
        "input_tokens": 48213,
        "input_tokens_details": {"cached_tokens": 40960},
        "output_tokens": n_events * 3,
        "output_tokens_details": {"reasoning_tokens": n_events},
        "total_tokens": 48213 + n_events * 3,
    }
    final = _response(resp_id, "completed", output or [], usage)
    yield g.event("response.completed", {"response": final})


def build(n_events: int = 200_000, *, seed: int = 0, full_final: bool = True) -> bytes:
    """The whole stream as bytes."""
    return b"".join(iter_events(n_events, seed=seed, full_final=full_final))


def write_sized(path: str, target_bytes: int, *, seed: int = 0) -> tuple[int, int]:
    """Write a stream of about ``target_bytes`` of small events to ``path``.

    Returns ``(events, bytes)``. The final ``response.completed`` has no output list.
    """
    sample = 20_000
    per_event = len(build(sample, seed=seed, full_final=False)) / sample
    n_events = max(9, int(target_bytes / per_event))
    size = 0
    with open(path, "wb") as file:
        batch: list[bytes] = []
        for block in iter_events(n_events, seed=seed, full_final=False):
            batch.append(block)
            if len(batch) >= 4096:
                size += file.write(b"".join(batch))
                batch.clear()
        size += file.write(b"".join(batch))
    return n_events, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="number of events")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small-final", action="store_true", help="no output list at the end")
    args = parser.parse_args()
    out = sys.stdout.buffer
    for block in iter_events(args.events, seed=args.seed, full_final=not args.small_final):
        out.write(block)


if __name__ == "__main__":
    main()
