"""The incremental framers agree with a whole-input reading of SPEC §5, for any input and split."""

import itertools

import msgspec
import reactivex
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rxresponses.operators import FrameFormat, JSONLinesFramer, SSEFramer, frame
from rxresponses.operators._pieces import PIECED
from rxresponses.operators._sse import LONG_EVENT, blank_line, last_blank_line

BOM = b"\xef\xbb\xbf"
Frame = tuple[bytes | None, bytes | None, bool]

LINES = [
    b"event: response.output_text.delta",
    b'data: {"type":"response.output_text.delta","delta":"h\xc3\xa9"}',
    b'data: {"a":',
    b"data: 1}",
    b"data: [DONE]",
    b"data:  [DONE] ",
    b"data",
    b"data:",
    b"data:   ",
    b"data:{}",
    b": keep-alive comment",
    b"id: 7",
    b"retry: 100",
    b"event:",
    b"event:  spaced",
    b"bogus: field",
    b"bogus",
    b"",
    b"",
    b"event: \xe2\x82",
    b"data: \xac\xff",
    b"data: " + b"x" * 60,
    b":" + b"c" * 60,
    b"event: " + b"n" * 60,
]


def _complete(data: bytes) -> bool:
    try:
        msgspec.json.decode(data, type=msgspec.Raw)
    except Exception:
        return False
    return True


def _accepted(data: bytes) -> bool:
    return bool(data.strip()) and data.strip() != b"[DONE]"


def reference_sse(stream: bytes, cap: int) -> list[Frame]:
    """WHATWG event-stream reading of the whole input at once, with the caps of SPEC §5."""
    if stream.startswith(BOM):
        stream = stream[3:]
    lines = stream.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    tail = lines.pop()
    if tail:
        lines.append(tail)
    frames: list[Frame] = []
    name: bytes | None = None
    data: list[bytes] = []
    oversized = False

    def dispatch() -> None:
        nonlocal name, data, oversized
        if oversized:
            frames.append((name, None, True))
        elif data and _accepted(b"\n".join(data)):
            frames.append((name, b"\n".join(data), False))
        name, data, oversized = None, [], False

    for line in lines:
        too_long = len(line) > cap
        if not line:
            dispatch()
            continue
        if line.startswith(b":"):
            continue
        field, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            if too_long or oversized or sum(map(len, data)) + len(data) + len(value) > cap:
                oversized = True
                data = []
            else:
                data.append(value)
        elif field == b"event":
            if too_long:
                oversized = True
                data = []
            else:
                name = value
    if oversized:
        frames.append((name, None, True))
    elif data and _complete(b"\n".join(data)) and _accepted(b"\n".join(data)):
        frames.append((name, b"\n".join(data), False))
    return frames


def reference_jsonl(stream: bytes, cap: int) -> list[Frame]:
    if stream.startswith(BOM):
        stream = stream[3:]
    frames: list[Frame] = []
    for line in stream.split(b"\n"):
        if len(line) > cap:
            frames.append((None, None, True))
            continue
        if line.endswith(b"\r"):
            line = line[:-1]
        if _accepted(line):
            frames.append((None, line, False))
    return frames


def incremental(framer: SSEFramer | JSONLinesFramer, stream: bytes, cuts: list[int]) -> list[Frame]:
    frames = []
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        frames.extend(framer.decode(stream[start:cut]))
        start = cut
    frames.extend(framer.flush())
    return [(name, None if oversized else data, oversized) for name, data, oversized in frames]


def through_frame(format: FrameFormat, cap: int, stream: bytes, cuts: list[int]) -> list[Frame]:
    """What the ``frame`` operator gives for ``stream`` cut at ``cuts`` (large chunks in pieces)."""
    bounds = [0, *sorted(cuts), len(stream)]
    chunks = [stream[start:end] for start, end in itertools.pairwise(bounds)]
    frames: list[Frame] = []
    frame(format, cap)(reactivex.from_iterable(chunks)).subscribe(frames.extend)
    return [(name, None if oversized else data, oversized) for name, data, oversized in frames]


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    lines = draw(st.lists(st.sampled_from(LINES), max_size=25))
    endings = draw(
        st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines), max_size=len(lines))
    )
    stream = b"".join(line + end for line, end in zip(lines, endings, strict=True))
    if draw(st.booleans()):
        stream = stream[: draw(st.integers(0, len(stream)))]  # cut anywhere
    if draw(st.booleans()):
        stream = BOM + stream
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=12))
    if draw(st.integers(0, 9)) == 0:
        cuts = list(range(len(stream)))  # one byte at a time
    return stream, cuts


#: Whole events as servers send them, in runs of one shape ...
NAMED = [
    b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta"}\n\n',
    b'event: response.output_text.delta\ndata: {"delta":"h\xc3\xa9"}\n\n',
    b"event: x\ndata: [DONE]\n\n",
    b"event: x\ndata: \n\n",
    b'event: response.output_text.delta\ndata: {"delta":"' + b"p" * 300 + b'"}\n\n',
]
UNNAMED = [
    b'data: {"type":"response.created"}\n\n',
    b"data: [DONE]\n\n",
    b"data: 1\n\n",
    b'data: {"delta":"' + b"p" * 300 + b'"}\n\n',
]
#: An event with two names and two data lines, whose lines fall in step with a run.
TWO_NAMES = b"event: x\ndata: 1\nid: 2\nevent: y\ndata: 3\n\n"
#: ... and odd ones that break a run.
ODD = [
    b"event: x\ndata: 1\ndata: 2\n\n",
    b"event: x\n\n",
    b"id: 1\ndata: 2\n\n",
    b"data: 3\nid: 1\n\n",
    b"event: y\nid: 4567890\n\n",
    TWO_NAMES,
    b": keep-alive\n\n",
    b"retry: 1000\n\n",
    b"\n",
    b"data: " + b"y" * 50 + b"\n\n",
    *NAMED[:1],
    *UNNAMED[:1],
]


@st.composite
def runs_of_events(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """Runs of the usual shapes with a few odd events: what the framer reads a run at a time."""
    events = draw(st.lists(st.sampled_from(draw(st.sampled_from([NAMED, UNNAMED]))), max_size=40))
    for odd in draw(st.lists(st.sampled_from(ODD), max_size=3)):
        events.insert(draw(st.integers(0, len(events))), odd)
    stream = b"".join(events)
    if draw(st.booleans()):
        stream = stream[: draw(st.integers(0, len(stream)))]
    if draw(st.integers(0, 4)) == 0:
        stream = stream.replace(b"\n", b"\r\n")
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=4))
    return stream, cuts


CAPS = st.sampled_from([4, 16, 40, 64, 1 << 20])


@settings(max_examples=400, deadline=None)
@given(streams(), CAPS)
@example((b"data: 1\r", [8]), 1 << 20)
@example((b"\xef\xbbdata: {}\n\n", [1, 2]), 1 << 20)
@example((b"data: {}\r\n\r\n", [9]), 1 << 20)
def test_sse_framer_matches_the_whole_input_reading(
    case: tuple[bytes, list[int]], cap: int
) -> None:
    stream, cuts = case

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)


@settings(max_examples=200, deadline=None)
@given(streams(), CAPS)
def test_jsonl_framer_matches_the_whole_input_reading(
    case: tuple[bytes, list[int]], cap: int
) -> None:
    stream, cuts = case

    assert incremental(JSONLinesFramer(cap), stream, cuts) == reference_jsonl(stream, cap)


@settings(max_examples=400, deadline=None)
@given(runs_of_events(), st.sampled_from([16, 64, 400, 1 << 20]))
@example((NAMED[4] * 5 + b"id: 1\ndata: 2\n\n" + NAMED[4], []), 1 << 20)
@example((NAMED[4] * 5 + b"event: y\nid: 4567890\n\n" + NAMED[4], []), 1 << 20)
@example((NAMED[4] * 5 + TWO_NAMES + NAMED[4], []), 1 << 20)
@example((UNNAMED[3] * 5 + b": keep-alive\n\n" + UNNAMED[3], []), 1 << 20)
def test_sse_framer_reads_runs_of_usual_events_like_the_whole_input_reading(
    case: tuple[bytes, list[int]], cap: int
) -> None:
    stream, cuts = case

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)


#: Events with a line longer than the framer reads by splitting (``.done``
#: events repeating a text), and odd shapes around them.
LONG = [
    b'event: response.output_text.done\ndata: {"text":"' + b"t" * 3000 + b'"}\n\n',
    b'data: {"text":"' + b"u" * 5000 + b'"}\n\n',
    b"event: x\ndata: " + b"v" * 2500 + b"\ndata: 2\n\n",
    b": " + b"w" * 2200 + b"\n\n",
    b"\n",
    b"\n\n",
]


@st.composite
def long_among_short(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """Runs of short events with long ones among them, in a few large chunks."""
    events = draw(st.lists(st.sampled_from([*NAMED, *UNNAMED, *ODD[:3]]), max_size=60))
    for long in draw(st.lists(st.sampled_from(LONG), min_size=1, max_size=4)):
        events.insert(draw(st.integers(0, len(events))), long)
    stream = b"".join(events)
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=2))
    return stream, cuts


@settings(max_examples=300, deadline=None)
@given(long_among_short(), st.sampled_from([64, 4000, 1 << 20]))
@example((NAMED[4] * 9 + LONG[0] + NAMED[4] * 9, []), 1 << 20)
@example((NAMED[4] * 9 + b"\n" + LONG[0] + NAMED[4] * 9, []), 1 << 20)
@example((NAMED[4] * 9 + b"\n\n" + LONG[1] + b"\n" + NAMED[4] * 9, []), 1 << 20)
@example((NAMED[4] + LONG[2] * 3 + NAMED[4], []), 1 << 20)
def test_sse_framer_reads_long_events_among_short_ones_like_the_whole_input_reading(
    case: tuple[bytes, list[int]], cap: int
) -> None:
    stream, cuts = case

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)


@settings(max_examples=150, deadline=None)
@given(long_among_short(), st.booleans())
def test_large_chunks_framed_in_pieces_give_the_whole_input_reading(
    case: tuple[bytes, list[int]], crlf: bool
) -> None:
    stream, cuts = case
    stream *= 1 + 3 * PIECED // len(stream)  # one of its (at most three) chunks is large
    if crlf:
        stream = stream.replace(b"\n", b"\r\n")

    assert through_frame("sse", 1 << 30, stream, cuts) == reference_sse(stream, 1 << 30)


@settings(max_examples=100, deadline=None)
@given(streams(), st.sampled_from([64, 1 << 20]))
def test_large_json_lines_chunks_framed_in_pieces_give_the_whole_input_reading(
    case: tuple[bytes, list[int]], cap: int
) -> None:
    stream, cuts = case
    stream *= 1 + 3 * PIECED // max(len(stream), 1)  # one of its chunks is large

    assert through_frame("jsonl", cap, stream, cuts) == reference_jsonl(stream, cap)


#: Caps above the head kept of a line over the cap (1 KiB), so that a line
#: kept whole and one read from its head differ.
CAPS_OVER_THE_HEAD = [1100, 3000]


@st.composite
def around_the_cap(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    """Events whose lines, or all their data lines, are about the cap long; cut anywhere."""
    cap = draw(st.sampled_from(CAPS_OVER_THE_HEAD))
    near = st.one_of(st.integers(cap - 10, cap + 3), st.integers(0, 40), st.just(2 * cap))
    events = []
    for _ in range(draw(st.integers(1, 4))):
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            field = draw(st.sampled_from([b"data: ", b"data:", b"event: ", b": ", b"id: "]))
            lines.append(field + b"v" * max(0, draw(near) - len(field)) + b"\n")
        events.append(b"".join(lines) + b"\n")
        events.append(draw(st.sampled_from([b"", b"data: 1\n\n", b"event: x\ndata: 2\n\n"])))
    stream = b"".join(events)
    if draw(st.booleans()):
        size = draw(st.sampled_from([7, 500, 1024, cap // 2, cap, cap + 1]))
        cuts = list(range(size, len(stream), size))
    else:
        cuts = draw(st.lists(st.integers(0, len(stream)), max_size=12))
    return stream, cap, cuts


@settings(max_examples=300, deadline=None)
@given(around_the_cap())
@example((b"data: " + b"v" * 1094 + b"\n: " + b"v" * 200 + b"\n\n", 1100, [550, 1100]))
def test_lines_about_the_cap_long_give_the_whole_input_reading(
    case: tuple[bytes, int, list[int]],
) -> None:
    stream, cap, cuts = case

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)
    assert through_frame("sse", cap, stream, cuts) == reference_sse(stream, cap)
    jsonl = stream.replace(b"\n\n", b"\n")
    assert incremental(JSONLinesFramer(cap), jsonl, cuts) == reference_jsonl(jsonl, cap)


#: Text in which a piece out of place shows.
DIGITS = b"".join(b"%07d," % number for number in range(40_000))


@st.composite
def long_lines_in_small_chunks(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    """Lines about one or two ``LONG_EVENT`` long, in chunks of a few bytes, a large one or not.

    Held bytes past ``LONG_EVENT`` are read line by line as they come: the
    lines cross that bound, once or twice.
    """
    events = []
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from([b"data: ", b"data:", b"event: ", b": "]))
        size = draw(
            st.sampled_from([20, LONG_EVENT - 3, LONG_EVENT + 5, 2 * LONG_EVENT + 1, 70_001])
        )
        more = draw(st.sampled_from([b"", b"data: 2\n", b"\n"]))
        events.append(field + b'"' + DIGITS[:size] + b'"\n' + more + b"\n")
        events.append(draw(st.sampled_from([b"", b'data: "short"\n\n'])))
    stream = b"".join(events)
    ending = draw(st.sampled_from(["whole", "cut", "unterminated"]))
    if ending == "cut":
        stream = stream[: draw(st.integers(0, len(stream)))]
    elif ending == "unterminated":  # the last event ends with the input: a JSON string is whole
        stream = stream.rstrip(b"\n")
    if draw(st.integers(0, 4)) == 0:
        stream = stream.replace(b"\n", b"\r\n")
    size = draw(st.sampled_from([1, 16, 511, 512, 513]))
    gap = sorted(draw(st.lists(st.integers(0, len(stream)), min_size=2, max_size=2)))
    cuts = [cut for cut in range(size, len(stream), size) if not gap[0] < cut < gap[1]]
    cap = draw(st.sampled_from([20_000, 70_000, 1 << 20]))
    return stream, cap, cuts


@settings(max_examples=40, deadline=None)
@given(long_lines_in_small_chunks())
def test_long_lines_in_small_chunks_give_the_whole_input_reading(
    case: tuple[bytes, int, list[int]],
) -> None:
    stream, cap, cuts = case

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)
    jsonl = stream.replace(b"\n\n", b"\n")
    assert incremental(JSONLinesFramer(cap), jsonl, cuts) == reference_jsonl(jsonl, cap)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([255, 256, 257, 258, 512, 513, 1000]),
    st.sampled_from([8, 64, 4096, 1 << 20]),
    st.lists(st.integers(0, 20_000), max_size=6),
)
def test_an_event_of_many_data_lines_gives_the_whole_input_reading(
    count: int, cap: int, cuts: list[int]
) -> None:
    # Data lines after the first are kept in groups of 256: the grouping must
    # not show, whatever the count, the cap or the cuts.
    lines = [b"data: " + str(i).encode() * (i % 3) for i in range(count)]
    stream = b"event: x\n" + b"\n".join(lines) + b"\n\ndata: 1\n\n"

    assert incremental(SSEFramer(cap), stream, cuts) == reference_sse(stream, cap)
    assert through_frame("sse", cap, stream, cuts) == reference_sse(stream, cap)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*NAMED[:2], NAMED[4], UNNAMED[0], UNNAMED[3]]), max_size=20),
    st.data(),
)
def test_each_event_is_framed_by_the_chunk_that_ends_it(
    events: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(events)
    ends = [sum(map(len, events[: i + 1])) for i in range(len(events))]
    # Cuts anywhere, and between the two line ends of some blank lines.
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    cuts += data.draw(st.lists(st.sampled_from([end - 1 for end in ends] or [0]), max_size=4))
    framer = SSEFramer()
    framed = 0
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        framed += len(framer.decode(stream[start:cut]))
        start = cut

        assert framed == sum(1 for end in ends if end <= cut)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"\n\n", b"x", b"y" * 700]), max_size=60), st.data())
def test_blank_line_searches_agree_with_two_byte_searches(
    parts: list[bytes], data: st.DataObject
) -> None:
    text = b"".join(parts)
    start = data.draw(st.integers(0, len(text)))

    assert blank_line(text, start) == text.find(b"\n\n", start)
    assert blank_line(bytearray(text), start) == text.find(b"\n\n", start)
    assert last_blank_line(text, start) == text.rfind(b"\n\n", start)
