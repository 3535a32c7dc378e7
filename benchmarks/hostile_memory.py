"""Memory under hostile input: what one stream may make the pipeline hold.

    python -m benchmarks.hostile_memory            # full sizes (about a minute)
    python -m benchmarks.hostile_memory --quick    # smaller inputs, same caps

Six inputs, each built chunk by chunk (64 KiB chunks; the input itself is
never held whole):

- ``big_event``: one text delta event far larger than the event cap, or just
  over it (its end in the chunk that passes the cap), between two ordinary events;
- ``many_lines``: one event of many 1 KiB ``data:`` lines, far over the cap together;
- ``endless_line``: a ``data:`` line that never ends (no line break until the
  input does);
- ``tiny_events``: a long stream of tiny text delta events;
- ``huge_tool_call``: a function call whose arguments come as 64 KiB deltas,
  far past the tool input cap;
- ``tiny_tool_deltas``: one whose arguments come two characters a delta.

Each is measured twice: in this process with ``tracemalloc`` (the peak of
what Python allocated while the chain ran, above what was held before), and
as the peak RSS (``VmHWM``) of the real CLI, ``rxresponses replay FILE
--jsonl > /dev/null``, from a file (read through a tiny intermediate
process that forks and execs it, as ``benchmarks.memory`` does: a child
forked from this large process would carry its high-water mark). The
documented bound: an event or line over the cap costs at most about the cap
(then it is dropped, one ``decode_error``); a long stream of small events
costs the same whatever its length; a tool call keeps at most the cap of its
input, and its ``tool_request_complete`` holds one more copy of what was kept
(the CLI's JSON line of that item one more).
"""

import argparse
import hashlib
import os
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rxresponses import (
    Done,
    Error,
    Item,
    Start,
    Text,
    from_chunks,
    responses,
)
from rxresponses.items import ToolRequestArg, ToolRequestComplete, ToolRequestStart
from rxresponses.operators import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_TOOL_INPUT_BYTES, FrameFormat

from ._util import header, machine, verdict
from .memory import empty_replay_rss, peak_rss

KIB = 1024
MIB = 1024 * 1024
CHUNK = 64 * KIB

CREATED = b'data: {"type":"response.created","response":{"id":"resp_1","model":"m"}}\n\n'
COMPLETED = (
    b'data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'
)
DELTA_HEAD = b'data: {"type":"response.output_text.delta","output_index":0,"delta":"'
OK_DELTA = DELTA_HEAD + b'ok"}\n\n'
TINY = DELTA_HEAD + b'x"}\n\n'
CALL_ADDED = (
    b'data: {"type":"response.output_item.added","output_index":0,"item":'
    b'{"type":"function_call","id":"fc_1","call_id":"call_1","name":"write_file"}}\n\n'
)
ARGS_HEAD = b'data: {"type":"response.function_call_arguments.delta","output_index":0,"delta":"'
#: One argument piece: 64 KiB of JSON-safe text.
PIECE_TEXT = (b"0123456789abcdef" * (CHUNK // 16)).decode()

Chunks = Callable[[], Iterator[bytes]]


def big_event(size: int) -> Chunks:
    """created, one text delta of about ``size`` bytes, a small delta, completed."""
    block = b"a" * CHUNK

    def chunks() -> Iterator[bytes]:
        yield CREATED
        yield DELTA_HEAD
        for _ in range(size // CHUNK):
            yield block
        yield block[: size % CHUNK] + b'"}\n\n'
        yield OK_DELTA
        yield COMPLETED

    return chunks


def many_lines(size: int) -> Chunks:
    """created, one event of ``size`` bytes in 1 KiB ``data:`` lines, a small delta, completed."""
    line = b"data: " + b"a" * 1017 + b"\n"
    block = line * (CHUNK // len(line))

    def chunks() -> Iterator[bytes]:
        yield CREATED
        for _ in range(size // len(block)):
            yield block
        yield b"\n"
        yield OK_DELTA
        yield COMPLETED

    return chunks


def endless_line(size: int) -> Chunks:
    """created, then ``data: aaaa…`` of ``size`` bytes, and the input ends: no line break."""
    block = b"a" * CHUNK

    def chunks() -> Iterator[bytes]:
        yield CREATED
        yield b"data: "
        for _ in range(size // CHUNK):
            yield block

    return chunks


def tiny_events(count: int) -> Chunks:
    """created, ``count`` one-character text deltas (in 1,000-event chunks), completed."""
    per_chunk = 1000
    block = TINY * per_chunk

    def chunks() -> Iterator[bytes]:
        yield CREATED
        for _ in range(count // per_chunk):
            yield block
        yield TINY * (count % per_chunk)
        yield COMPLETED

    return chunks


def huge_tool_call(size: int) -> Chunks:
    """A function call whose arguments come in 64 KiB deltas, ``size`` bytes in all."""
    event = ARGS_HEAD + PIECE_TEXT.encode() + b'"}\n\n'

    def chunks() -> Iterator[bytes]:
        yield CREATED
        yield CALL_ADDED
        for _ in range(size // CHUNK):
            yield event
        yield COMPLETED

    return chunks


def tiny_tool_deltas(size: int) -> Chunks:
    """A function call whose arguments come two characters a delta, ``size`` characters in all."""
    event = ARGS_HEAD + b'ab"}\n\n'
    block = event * (CHUNK // len(event))
    per_block = 2 * (CHUNK // len(event))

    def chunks() -> Iterator[bytes]:
        yield CREATED
        yield CALL_ADDED
        for _ in range(size // per_block):
            yield block
        yield event * (size % per_block // 2)
        yield COMPLETED

    return chunks


#: The 256 one-byte objects: cutting an input into them makes no new object.
_ONE_BYTE = [bytes([value]) for value in range(256)]


def rechunked(chunks: Chunks, size: int) -> Chunks:
    """The same input, each of its chunks cut into chunks of ``size`` bytes (its last shorter).

    A file read ``size`` bytes at a time gives a new object each time; here a
    one-byte chunk is one of the 256 shared objects, so that cutting allocates
    nothing: what is traced is what the chain keeps (a list slot per held byte
    would still show).
    """

    def cut() -> Iterator[bytes]:
        for chunk in chunks():
            if size == 1:
                yield from map(_ONE_BYTE.__getitem__, chunk)
            else:
                yield from (chunk[start : start + size] for start in range(0, len(chunk), size))

    return cut


def write(chunks: Chunks, path: str) -> int:
    """Write the input to ``path``; its size."""
    total = 0
    with open(path, "wb") as file:
        for chunk in chunks():
            total += file.write(chunk)
    return total


@dataclass
class Summary:
    """What a subscription gave, without holding the items: counts and a hash of the arguments."""

    types: dict[str, int] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)
    first: Item | None = None
    last: Item | None = None
    completed: int = 0
    failures: list[Exception] = field(default_factory=list)
    arg_bytes: int = 0
    arg_hash: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    calls: list[ToolRequestComplete] = field(default_factory=list)
    starts: int = 0
    text_chars: int = 0

    def on_next(self, item: Item) -> None:
        name = type(item).__name__
        self.types[name] = self.types.get(name, 0) + 1
        if self.first is None:
            self.first = item
        self.last = item
        if isinstance(item, Error):
            self.errors.append(item)
        elif isinstance(item, Text):
            self.text_chars += len(item.chunk)
        elif isinstance(item, ToolRequestArg):
            data = item.chunk.encode()
            self.arg_bytes += len(data)
            self.arg_hash.update(data)
        elif isinstance(item, ToolRequestStart):
            self.starts += 1
        elif isinstance(item, ToolRequestComplete):
            self.calls.append(item)

    def on_error(self, error: Exception) -> None:
        self.failures.append(error)

    def on_completed(self) -> None:
        self.completed += 1

    def check_frame(self) -> None:
        """The items begin with ``start``, end with one ``done``, and the observable completed."""
        assert self.failures == [], self.failures
        assert self.completed == 1
        assert isinstance(self.first, Start)
        assert isinstance(self.last, Done)
        assert self.types.get("Start") == 1
        assert self.types.get("Done") == 1


def run_traced(
    chunks: Chunks,
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    max_tool_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
    format: FrameFormat = "sse",
) -> tuple[Summary, int]:
    """Run the whole chain over the input; ``(summary, tracemalloc peak in bytes)``.

    The peak counts what was allocated while the chain ran, above what was
    held when it began (the summary's own small state included).
    """
    summary = Summary()
    source = from_chunks(chunks)
    items = responses(
        source,
        format=format,
        max_event_bytes=max_event_bytes,
        max_tool_input_bytes=max_tool_input_bytes,
    )
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        items.subscribe(summary.on_next, summary.on_error, summary.on_completed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not started:
            tracemalloc.stop()
    return summary, max(0, peak - before)


def kept_arguments_hash(size: int, cap: int) -> tuple[int, str]:
    """``(bytes, sha256)`` of the whole 64 KiB pieces of a ``size``-byte input that fit the cap."""
    pieces = min(size // CHUNK, cap // CHUNK)
    digest = hashlib.sha256()
    for _ in range(pieces):
        digest.update(PIECE_TEXT.encode())
    return pieces * CHUNK, digest.hexdigest()


# --- the benchmark ---------------------------------------------------------------------


@dataclass
class Case:
    name: str
    chunks: Chunks
    input_bytes: int
    event_cap: int = DEFAULT_MAX_EVENT_BYTES
    tool_cap: int = DEFAULT_MAX_TOOL_INPUT_BYTES
    #: The documented bound on what the chain may allocate, in bytes.
    bound: int = 0
    #: What the CLI adds: the JSON line of an item that holds kept input.
    output: int = 0


def cases(quick: bool) -> list[Case]:
    event = 16 * MIB if quick else 160 * MIB  # over the default cap (128 MiB) when full
    small_cap = 8 * MIB
    count = 100_000 if quick else 1_000_000
    args = 20 * MIB if quick else 50 * MIB
    tiny = 3 * MIB // 2 if quick else 2 * MIB  # characters: a million deltas on a full run
    full_cap = DEFAULT_MAX_EVENT_BYTES

    def over_the_caps(what: str, chunks: Chunks) -> list[Case]:
        """``what`` under the small cap and, on a full run, under the default one."""
        small = Case(
            f"{what}, cap {small_cap // MIB} MiB",
            chunks,
            event,
            event_cap=small_cap,
            bound=small_cap + 2 * MIB,
        )
        full = Case(
            f"{what}, default cap {full_cap // MIB} MiB", chunks, event, bound=full_cap + 2 * MIB
        )
        return [small] if quick else [small, full]

    return [
        *over_the_caps(f"one {event // MIB} MiB event", big_event(event)),
        Case(
            f"one event of the cap + 100 bytes, cap {small_cap // MIB} MiB",
            big_event(small_cap + 100),
            small_cap + 100,
            event_cap=small_cap,
            bound=small_cap + 2 * MIB,
        ),
        *over_the_caps(f"one {event // MIB} MiB event of 1 KiB lines", many_lines(event)),
        *over_the_caps(f"{event // MIB} MiB line without end", endless_line(event)),
        Case(
            f"{count:,} tiny events",
            tiny_events(count),
            len(TINY) * count,
            bound=2 * MIB,
        ),
        Case(
            f"tool call, {args // MIB} MiB of arguments, default cap 16 MiB",
            huge_tool_call(args),
            args,
            bound=2 * DEFAULT_MAX_TOOL_INPUT_BYTES + 2 * MIB,
            output=DEFAULT_MAX_TOOL_INPUT_BYTES,
        ),
        Case(
            f"tool call, {args // MIB} MiB of arguments, cap 1 MiB",
            huge_tool_call(args),
            args,
            tool_cap=1 * MIB,
            bound=2 * MIB + 2 * MIB,
            output=1 * MIB,
        ),
        Case(
            f"tool call, {tiny // 2:,} deltas of 2 characters, cap 1 MiB",
            tiny_tool_deltas(tiny),
            tiny // 2 * len(ARGS_HEAD + b'ab"}\n\n'),
            tool_cap=1 * MIB,
            bound=2 * MIB + 2 * MIB,
            output=1 * MIB,
        ),
    ]


def _describe(summary: Summary) -> str:
    kinds = [error.kind for error in summary.errors]
    text = f"{len(kinds)} error(s) {','.join(kinds) or '-'}"
    if summary.calls:
        call = summary.calls[0].tool_call
        text += f"; call partial={call.partial}, kept {len(call.arguments) / MIB:.2f} MiB"
    if summary.types.get("Text"):
        text += f"; {summary.types['Text']:,} text items"
    return text


def run(quick: bool = False) -> bool:
    """Print the figures; ``True`` if every case stays within its bound."""
    print(machine())
    header("hostile memory: tracemalloc peak of the chain, peak RSS of `rxresponses replay`")
    ok = True
    with tempfile.TemporaryDirectory(prefix="rxresponses-hostile-") as tmp:
        base = empty_replay_rss(tmp)
        print(f"  replay of an empty file: {base / MIB:.1f} MiB peak RSS")
        print(
            f"  {'case':<52} {'input':>9} {'traced peak':>12} {'RSS peak':>9} "
            f"{'above empty':>11} {'bound':>8}  items"
        )
        for case in cases(quick):
            summary, traced = run_traced(
                case.chunks, max_event_bytes=case.event_cap, max_tool_input_bytes=case.tool_cap
            )
            summary.check_frame()
            path = os.path.join(tmp, "case.sse")
            write(case.chunks, path)
            rss, _ = peak_rss(
                path,
                "--max-event-bytes",
                str(case.event_cap),
                "--max-tool-input-bytes",
                str(case.tool_cap),
            )
            os.unlink(path)
            above = rss - base
            good = traced <= case.bound and above <= case.bound + case.output + 8 * MIB
            ok &= good
            print(
                f"  {case.name:<52} {case.input_bytes / MIB:>5.0f} MiB {traced / MIB:>8.1f} MiB "
                f"{rss / MIB:>5.0f} MiB {above / MIB:>7.1f} MiB {case.bound / MIB:>4.0f} MiB  "
                f"{_describe(summary)}  [{verdict(good)}]"
            )
    print(
        "  bound: traced peak <= bound; RSS above the empty replay <= bound + 8 MiB "
        "(allocator, output buffers), + the cap for a tool call (its JSON output line)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile_memory")
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    args = parser.parse_args()
    return 0 if run(args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
