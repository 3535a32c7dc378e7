"""Chat Completions and Anthropic Messages: the chain against its floor and the official SDKs.

    python -m benchmarks.wires [--events 100000] [--sdk-events 20000] [--runs 5]

For each wire, on the stream its yardstick generator writes (text,
reasoning, parallel tool calls, usage), in one sitting:

(a) ``responses(from_bytes(data, 64 KiB), wire=...)`` with a per-item ``on_next``;
(c) its floor in ``benchmarks.floor_wires``, a plain loop handing the same
    items to the same callback (the items must be equal, ``message_id`` aside);
(b) the official SDK on the same bytes over a mock transport, only iterating
    its typed stream (mapping to items would cost it more): openai-python
    ``chat.completions.create(stream=True)``; anthropic
    ``messages.create(stream=True)`` and ``messages.stream()``.

Printed: µs per event, (a)/(c) (median of per-turn ratios; target <= 1.3) and
each (b)/(a) (target >= 10). The SDKs read a shorter stream of the same kind,
per event. With ``--stages``, where (a) spends its time: the stages' classes
chained in a plain loop, one more each time, in the same turns as (a) and (c),
and the floor's own framing beside the library's.
"""

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import msgspec
from rxresponses import from_bytes, responses
from rxresponses.operators import Item, SSEFramer, Start, ToolCollector
from rxresponses.operators._anthropic import AnthropicDecoder, AnthropicDispatcher
from rxresponses.operators._chat import ChatDecoder, ChatDispatcher

from ._util import header, machine, median, timed_in_turns, turn_ratio, verdict
from .floor_wires import _frames, run_anthropic_floor, run_chat_floor

KIB64 = 64 * 1024
YARDSTICKS = Path(__file__).resolve().parent / "yardsticks"
GENERATORS = {"chat": "gen_chat.py", "anthropic": "gen_anthropic.py"}
FLOORS: dict[str, Callable[[Any, Callable[[Item], None]], None]] = {
    "chat": run_chat_floor,
    "anthropic": run_anthropic_floor,
}


def generate(wire: str, events: int, folder: Path) -> bytes:
    out = folder / f"{wire}-{events}.sse"
    subprocess.run(
        [
            sys.executable,
            str(YARDSTICKS / GENERATORS[wire]),
            "--events",
            str(events),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=YARDSTICKS,
    )
    return out.read_bytes()


def _pieces(data: bytes, size: int = KIB64) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def chain(wire: Literal["chat", "anthropic"], data: bytes) -> Callable[[], list[Item]]:
    def run() -> list[Item]:
        items: list[Item] = []
        responses(from_bytes(data, KIB64), wire=wire).subscribe(items.append)
        return items

    return run


def floor(wire: str, data: bytes) -> Callable[[], list[Item]]:
    pieces = _pieces(data)

    def run() -> list[Item]:
        items: list[Item] = []
        FLOORS[wire](pieces, items.append)
        return items

    return run


# ---- stages -------------------------------------------------------------------

#: Each wire's decoder and dispatcher classes (not public: the operators wrap them).
STAGE_CLASSES: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "chat": (ChatDecoder, ChatDispatcher),
    "anthropic": (AnthropicDecoder, AnthropicDispatcher),
}
#: The loops that each add one part to the one before.
CUMULATIVE = ("frame", "decode", "dispatch", "collect", "a")
STAGE_LABELS = {
    "frame": "SSEFramer",
    "decode": "+ decoder",
    "dispatch": "+ dispatcher",
    "collect": "+ ToolCollector",
    "a": "(a): + operators, source, finalize, on_next",
    "floor frames": "the floor's framing alone",
    "c": "(c) the floor",
}


def stage_loops(wire: str, data: bytes) -> dict[str, Callable[[], object]]:
    """The stages' classes chained in a plain loop, one more stage each time.

    Each loop streams (nothing is kept), so the step from one loop to the
    next is what a stage adds, without ReactiveX.
    """
    pieces = _pieces(data)
    make_decoder, make_dispatcher = STAGE_CLASSES[wire]

    def loop(depth: int) -> None:
        framer, decoder = SSEFramer(done=True), make_decoder()
        dispatcher, collector = make_dispatcher(), ToolCollector()
        for piece in [*pieces, b""]:
            frames = framer.decode(piece) if piece else framer.flush()
            if depth > 1 and frames:
                events = decoder.decode(frames)
                if depth > 2 and events:
                    dispatched = dispatcher.step(events)
                    if depth > 3 and dispatched:
                        collector.collect(dispatched)

    def floor_frames() -> None:
        for _ in _frames(pieces):
            pass

    loops: dict[str, Callable[[], object]] = {
        name: partial(loop, depth)
        for depth, name in enumerate(("frame", "decode", "dispatch", "collect"), 1)
    }
    loops["a"] = chain(cast(Literal["chat", "anthropic"], wire), data)
    loops["floor frames"] = floor_frames
    loops["c"] = floor(wire, data)
    return loops


def print_stages(wire: str, data: bytes, n: int, runs: int) -> None:
    times = timed_in_turns(stage_loops(wire, data), runs)
    print("  where (a) spends its time (cumulative; /(c): median of per-turn ratios):")
    previous = 0.0
    for name, seconds in times.items():
        us = median(seconds) / n * 1e6
        step = ""
        if name in CUMULATIVE:
            step = f"step {us - previous:+.3f} µs"
            previous = us
        print(
            f"    {STAGE_LABELS[name]:<44} {us:7.3f} µs/event  "
            f"/(c) {turn_ratio(times, name, 'c'):5.2f}   {step}"
        )


def _transport(data: bytes) -> Any:
    import httpx2

    pieces = _pieces(data)

    class Body(httpx2.SyncByteStream):  # type: ignore[misc,unused-ignore]
        def __iter__(self) -> Iterator[bytes]:
            return iter(pieces)

    def handler(request: Any) -> Any:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=Body())

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def sdk_runs(wire: str, data: bytes) -> dict[str, Callable[[], object]]:
    """The SDK's ways of reading the stream, each one call reading it once."""
    http = _transport(data)
    if wire == "chat":
        from openai import OpenAI

        openai_client = OpenAI(
            api_key="sk-bench", base_url="http://bench.invalid/v1", http_client=http, max_retries=0
        )

        def create() -> object:
            stream = openai_client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            return sum(1 for _ in stream)

        return {"openai chat.completions.create(stream=True)": create}
    from anthropic import Anthropic

    client = Anthropic(
        api_key="sk-bench", base_url="http://bench.invalid", http_client=http, max_retries=0
    )
    request: dict[str, Any] = {
        "model": "m",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }

    def create_stream() -> object:
        return sum(1 for _ in client.messages.create(**request, stream=True))

    def helper() -> object:
        with client.messages.stream(**request) as stream:
            return sum(1 for _ in stream)

    return {
        "anthropic messages.create(stream=True)": create_stream,
        "anthropic messages.stream()": helper,
    }


def _plain(items: list[Item]) -> list[bytes]:
    return [msgspec.json.encode(item) for item in items if not isinstance(item, Start)]


def events_in(data: bytes) -> int:
    return data.count(b"\n\n")


def run_wire(name: str, data: bytes, sdk_data: bytes, runs: int, stages: bool = False) -> bool:
    wire = cast(Literal["chat", "anthropic"], name)
    n, sdk_n = events_in(data), events_in(sdk_data)
    header(f"{wire}: {n} events, {len(data) / 1e6:.1f} MB; the SDKs: {sdk_n} events")
    equal = _plain(chain(wire, data)()) == _plain(floor(wire, data)())
    print(f"  (a) items == (c) items (message_id aside): {equal}")
    times = timed_in_turns({"a": chain(wire, data), "c": floor(wire, data)}, runs)
    a_us = median(times["a"]) / n * 1e6
    c_us = median(times["c"]) / n * 1e6
    ratio = turn_ratio(times, "a", "c")
    print(f"  (a) chain  {a_us:6.2f} µs/event")
    print(
        f"  (c) floor  {c_us:6.2f} µs/event   (a)/(c) = {ratio:.2f}  "
        f"[target <= 1.3: {verdict(ratio <= 1.3)}]"
    )
    ok = equal and ratio <= 1.3
    if stages:
        print_stages(wire, data, n, runs)
    small = timed_in_turns({"a": chain(wire, sdk_data)}, runs)
    small_a = median(small["a"]) / sdk_n * 1e6
    for name, call in sdk_runs(wire, sdk_data).items():
        sdk = median(timed_in_turns({"b": call}, max(runs // 2, 1))["b"]) / sdk_n * 1e6
        times_over = sdk / small_a
        print(
            f"  (b) {name:<44} {sdk:7.2f} µs/event   (b)/(a) = {times_over:.1f}  "
            f"[target >= 10: {verdict(times_over >= 10)}]"
        )
        ok = ok and times_over >= 10
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sdk-events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wires", default="chat,anthropic")
    parser.add_argument("--stages", action="store_true", help="also the per-stage breakdown")
    args = parser.parse_args()
    print(f"benchmarks.wires: {machine()}")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        for wire in args.wires.split(","):
            data = generate(wire, args.events, Path(folder))
            sdk_data = generate(wire, args.sdk_events, Path(folder))
            ok = run_wire(wire, data, sdk_data, args.runs, args.stages) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
