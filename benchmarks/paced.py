"""Paced streams with known timing, for the load tester's accuracy tests and overhead figures.

    python -m benchmarks.paced [--first 1.0] [--gap 0.05] [--tokens 10]

A paced stream sends its first token ``first`` seconds after the request
arrives and one more every ``gap``: the replay server serves it on that
schedule from its own process, ``load_test`` measures it, and the
difference is the client's own overhead.
"""

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rxresponses.http import Wire

WAIT = 120.0


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


Parts = tuple[list[bytes], list[bytes], list[bytes]]
"""A paced stream's events: the head, one event per token, the tail."""


def responses_events(tokens: int) -> Parts:
    """A Responses stream: ``response.created``, ``tokens`` text deltas, ``response.completed``."""
    head: dict[str, Any] = {
        "type": "response.created",
        "response": {"id": "resp_paced", "model": "m"},
    }
    deltas: list[dict[str, Any]] = [
        {
            "type": "response.output_text.delta",
            "output_index": 0,
            "content_index": 0,
            "item_id": "msg_1",
            "delta": f"t{i} ",
        }
        for i in range(tokens)
    ]
    usage = {"input_tokens": 5, "output_tokens": tokens}
    tail: dict[str, Any] = {
        "type": "response.completed",
        "response": {"id": "resp_paced", "status": "completed", "usage": usage},
    }
    return [_sse(head)], [_sse(e) for e in deltas], [_sse(tail)]


def chat_events(tokens: int) -> Parts:
    """A Chat Completions stream: a role chunk, ``tokens`` content chunks, finish and usage."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {
            "id": "chatcmpl-paced",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [choice],
        }

    head = chunk({"role": "assistant", "content": ""})
    deltas = [chunk({"content": f"t{i} "}) for i in range(tokens)]
    tail = chunk({}, "stop")
    tail["usage"] = {"prompt_tokens": 5, "completion_tokens": tokens, "total_tokens": tokens + 5}
    return [_sse(head)], [_sse(e) for e in deltas], [_sse(tail), b"data: [DONE]\n\n"]


def anthropic_events(tokens: int) -> Parts:
    """An Anthropic Messages stream: message and block start, ``tokens`` text deltas, the end."""
    message: dict[str, Any] = {
        "id": "msg_paced",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    head: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    deltas = [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": f"t{i} "},
        }
        for i in range(tokens)
    ]
    tail: list[dict[str, Any]] = [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": tokens},
        },
        {"type": "message_stop"},
    ]
    return [_sse(e) for e in head], [_sse(e) for e in deltas], [_sse(e) for e in tail]


STREAMS: dict[str, Callable[[int], Parts]] = {
    "responses": responses_events,
    "chat": chat_events,
    "anthropic": anthropic_events,
}


def paced(parts: Parts, first: float, gap: float) -> tuple[bytes, list[float]]:
    """The recording and its schedule: the head at once, the tokens from ``first`` every ``gap``."""
    head, tokens, tail = parts
    last = first + gap * (len(tokens) - 1)
    times = [0.0] * len(head) + [first + gap * i for i in range(len(tokens))] + [last] * len(tail)
    return b"".join([*head, *tokens, *tail]), times


@contextlib.asynccontextmanager
async def paced_server(recording: bytes, schedule: list[float]) -> AsyncIterator[str]:
    """The base URL of a replay server in its own process, serving ``recording`` on ``schedule``."""
    with tempfile.TemporaryDirectory() as folder:
        stream, times = Path(folder) / "stream.sse", Path(folder) / "schedule.json"
        stream.write_bytes(recording)
        times.write_text(json.dumps(schedule))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._server",
            str(stream),
            str(times),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert process.stdout is not None
        assert process.stdin is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), WAIT)
            yield line.decode().strip()
        finally:
            process.stdin.close()
            await asyncio.wait_for(process.wait(), WAIT)


async def measure_paced(
    wire: "Wire", concurrency: int, first: float, gap: float, tokens: int, rounds: int = 2
) -> Any:
    """The final ``Summary`` of ``rounds × concurrency`` requests to a paced server."""
    import aiohttp
    from reactivex import operators as ops
    from rxresponses.http import (
        build_wire_request,
        stream_responses,
    )
    from rxresponses.loadtest import Summary, load_test

    recording, schedule = paced(STREAMS[wire](tokens), first, gap)
    # The objects this process already holds (a test session's, say) are set
    # aside from the collector while measuring: a full collection of them
    # would pause the loop, and the pause would count as the client's latency.
    gc.collect()
    gc.freeze()
    try:
        async with (
            paced_server(recording, schedule) as base_url,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
        ):
            body = build_wire_request(wire, "m", "hi")
            run = load_test(
                lambda _: stream_responses(body, base_url=base_url, session=session, wire=wire),
                requests=concurrency * rounds,
                concurrency=concurrency,
            )
            final = await asyncio.wait_for(
                _last(run.pipe(ops.filter(lambda e: isinstance(e, Summary)))), WAIT
            )
    finally:
        gc.unfreeze()
    return final


async def _last(observable: Any) -> Any:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    seen: list[Any] = []
    observable.subscribe(seen.append, done.set_exception, lambda: done.set_result(seen[-1]))
    return await done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=float, default=1.0)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--wires", default=",".join(STREAMS))
    args = parser.parse_args()
    expected = {
        "ttft": args.first,
        "itl": args.gap,
        "e2e": args.first + args.gap * (args.tokens - 1),
    }
    print(
        f"injected: ttft {args.first * 1000:.0f} ms, itl {args.gap * 1000:.0f} ms, "
        f"e2e {expected['e2e'] * 1000:.0f} ms; measured minus injected (p50 / p99), ms:"
    )
    for wire in args.wires.split(","):
        assert wire in STREAMS, wire
        for concurrency in (1, 16, 64):
            s = asyncio.run(measure_paced(wire, concurrency, args.first, args.gap, args.tokens))
            cells = []
            for name in ("ttft", "itl", "e2e"):
                stats = getattr(s, f"{name}_ms")
                cells.append(
                    f"{name} {stats.p50 - expected[name] * 1000:+6.1f} / "
                    f"{stats.p99 - expected[name] * 1000:+6.1f}"
                )
            print(f"  {wire:<10} concurrency {concurrency:>2}: " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
