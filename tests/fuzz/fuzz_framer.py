"""Coverage-guided fuzzing of the framers: any split of the input gives the frames of no split.

Input layout (so that a seed is a header plus a recorded body)::

    byte 0    bit 0: JSON Lines (else SSE); bits 1-2: the size cap (see CAPS)
    byte 1    k, the number of split points (at most 16)
    2k bytes  split points, big-endian 16-bit, taken modulo the body length + 1
    the rest  the body

Run: ``python tests/fuzz/fuzz_framer.py tests/fuzz/corpus/framer -max_total_time=300``
(see README.md).
"""

import itertools
import os
import sys
from collections.abc import Sequence

import atheris

with atheris.instrument_imports(include=["rxresponses.operators"]):
    from rxresponses.operators import DEFAULT_MAX_EVENT_BYTES, Frame, JSONLinesFramer, SSEFramer

CAPS = (DEFAULT_MAX_EVENT_BYTES, 16, 300, 4096)
#: How much of an oversized event a frame keeps (``operators._sse_lines.PREVIEW``).
PREVIEW = 256
#: Bodies up to this size are also fed one byte at a time.
ONE_BY_ONE = 1024
#: Known findings to look past while they are unfixed (comma-separated, see README.md):
#: ``oversized-preview`` compares oversized frames without their preview bytes.
IGNORE = frozenset(os.environ.get("FUZZ_IGNORE", "").split(","))


def comparable(frames: list[Frame]) -> list[Frame]:
    if "oversized-preview" not in IGNORE:
        return frames
    return [(name, b"" if oversized else data, oversized) for name, data, oversized in frames]


def parse(data: bytes) -> tuple[bool, int, list[int], bytes]:
    """(JSON Lines?, cap, split points, body) from a fuzzer input."""
    if len(data) < 2:
        return False, CAPS[0], [], data
    flags, count = data[0], min(data[1], 16)
    head = data[2 : 2 + 2 * count]
    body = data[2 + 2 * count :]
    points = [int.from_bytes(head[i : i + 2], "big") for i in range(0, len(head) - 1, 2)]
    return bool(flags & 1), CAPS[(flags >> 1) & 3], points, body


def split(body: bytes, points: Sequence[int]) -> list[bytes]:
    cuts = sorted({p % (len(body) + 1) for p in points} | {0, len(body)})
    return [body[a:b] for a, b in itertools.pairwise(cuts)]


def frames(jsonl: bool, cap: int, chunks: Sequence[bytes]) -> list[Frame]:
    framer = JSONLinesFramer(cap) if jsonl else SSEFramer(cap)
    out: list[Frame] = []
    for chunk in chunks:
        out.extend(framer.decode(chunk))
    out.extend(framer.flush())
    return out


def check_frame(frame: Frame, cap: int, jsonl: bool) -> None:
    name, data, oversized = frame
    assert name is None or (isinstance(name, bytes) and not jsonl), frame
    assert name is None or (b"\n" not in name and b"\r" not in name), frame
    assert isinstance(data, bytes), frame
    if oversized:
        assert len(data) <= PREVIEW, f"an oversized frame keeps {len(data)} bytes"
    else:
        assert len(data) <= cap, f"a frame of {len(data)} bytes passed the cap of {cap}"
        assert data.strip(), f"an empty frame was dispatched: {frame!r}"
        assert data.strip() != b"[DONE]", "[DONE] was dispatched"


def test_one_input(data: bytes) -> None:
    jsonl, cap, points, body = parse(data)
    whole = frames(jsonl, cap, [body])
    for frame in whole:
        check_frame(frame, cap, jsonl)
    expected = comparable(whole)
    pieces = frames(jsonl, cap, split(body, points))
    assert comparable(pieces) == expected, f"split at {points} gives other frames"
    if len(body) <= ONE_BY_ONE:
        single = frames(jsonl, cap, [body[i : i + 1] for i in range(len(body))])
        assert comparable(single) == expected, "one byte at a time gives other frames"


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
