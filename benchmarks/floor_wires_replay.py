"""The whole-process floor for Chat Completions and Anthropic Messages, as JSON Lines.

    python -m benchmarks.floor_wires_replay FILE --wire chat|anthropic [--chunk-size N]

What ``yardsticks/floor_replay.py`` is for Responses: read the file in
chunks, run the plain loop of ``benchmarks.floor_wires`` (split events,
msgspec decoders made once, items built), and write each item as one JSON
line, the lines of a chunk in one write. Happy path only; a yardstick.
"""

import argparse
import sys
from collections.abc import Iterator

import msgspec
from rxresponses.operators import Item

from .floor_wires import run_anthropic_floor, run_chat_floor

FLOORS = {"chat": run_chat_floor, "anthropic": run_anthropic_floor}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--wire", choices=sorted(FLOORS), required=True)
    parser.add_argument("--chunk-size", type=int, default=65536)
    args = parser.parse_args()
    encode_into = msgspec.json.Encoder().encode_into
    out = sys.stdout.buffer
    lines = bytearray()

    def on_item(item: Item) -> None:
        encode_into(item, lines, -1)
        lines.append(0x0A)

    def chunks() -> Iterator[bytes]:
        with open(args.file, "rb") as file:
            while chunk := file.read(args.chunk_size):
                yield chunk
                out.write(lines)  # the lines this chunk gave, in one write
                del lines[:]

    FLOORS[args.wire](chunks(), on_item)
    out.write(lines)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
