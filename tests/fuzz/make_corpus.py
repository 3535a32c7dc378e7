"""Build the seed corpora of the fuzz targets from the recorded streams in ``tests/fixtures``.

Each seed is a target's header (see the targets' docstrings) followed by a recorded body
or a part of one: ``python tests/fuzz/make_corpus.py`` writes ``corpus/framer`` and
``corpus/chain`` next to this file. Bodies over ``MAX_SEED`` bytes are cut at an event
boundary, with their last event kept (it is usually the terminal one).
"""

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
MAX_SEED = 12 * 1024


def _events(body: bytes, jsonl: bool) -> list[bytes]:
    separator = b"\n" if jsonl else b"\n\n"
    return [part + separator for part in body.split(separator) if part.strip()]


def _trim(body: bytes, jsonl: bool) -> bytes:
    if len(body) <= MAX_SEED:
        return body
    events = _events(body, jsonl)
    last = events[-1]
    kept = b""
    for event in events[:-1]:
        if len(kept) + len(event) + len(last) > MAX_SEED:
            break
        kept += event
    return kept + last


def seeds() -> list[tuple[bool, bytes]]:
    """(JSON Lines?, body) for every recorded stream."""
    out: list[tuple[bool, bytes]] = []
    for path in sorted(FIXTURES.rglob("*.sse")):
        out.append((False, _trim(path.read_bytes(), False)))
    for path in sorted(FIXTURES.rglob("*.chunks.txt")):
        out.append((True, _trim(path.read_bytes(), True)))
    return out


def _write(directory: Path, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main(root: Path = HERE / "corpus") -> int:
    bodies = seeds()
    if not bodies:
        print(f"no recorded streams under {FIXTURES}", file=sys.stderr)
        return 1
    for jsonl, body in bodies:
        flags = 1 if jsonl else 0
        middle = (len(body) // 2).to_bytes(2, "big")
        # No split, then one split in the middle (with a small cap for the framer).
        _write(root / "framer", bytes([flags, 0]) + body)
        _write(root / "framer", bytes([flags | 0b100, 1]) + middle + body)
        # Default caps at 64 KiB chunks; then 7-byte chunks with small caps and a split.
        _write(root / "chain", bytes([flags, 0]) + body)
        _write(root / "chain", bytes([flags | 0b10011010, 1]) + middle + body)
    print(f"{len(bodies)} recorded streams → {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
