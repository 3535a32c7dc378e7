"""In process: per-item delivery by the chain against the honest floor, on the yardstick stream.

    python -m benchmarks.inprocess [--events 200000] [--runs 7]

(a) ``responses(from_bytes(data, chunk)).subscribe(on_item)``: the whole
chain, one ``on_next`` per item; (c) ``benchmarks.floor_fast``: the
yardstick's plain loop handing the same items to the same callback. Both read
the stream of ``yardsticks/gen_stream.py`` (Responses), take turns, and must
give the same items (``message_id`` aside). Printed: CPU µs per event, the
median of the per-turn ratios (a)/(c) at 64 KiB and 512-byte chunks, and
µs per input byte for 1-byte chunks. ``benchmarks.process`` is the same
comparison as whole processes writing JSON Lines.
"""

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import msgspec
from rxresponses import from_bytes, responses
from rxresponses.operators import Item, Start

from ._util import header, machine, median, timed_in_turns, turn_ratio, verdict
from .floor_fast import run_fast_floor
from .process import generate

KIB64 = 64 * 1024


def library(data: bytes, size: int) -> Callable[[], list[Item]]:
    def run() -> list[Item]:
        items: list[Item] = []
        responses(from_bytes(data, size)).subscribe(items.append)
        return items

    return run


def floor(data: bytes, size: int) -> Callable[[], list[Item]]:
    def run() -> list[Item]:
        items: list[Item] = []
        run_fast_floor((data[i : i + size] for i in range(0, len(data), size)), items.append)
        return items

    return run


def same(a: list[Item], b: list[Item]) -> bool:
    def plain(items: list[Item]) -> list[bytes]:
        return [msgspec.json.encode(i) for i in items if not isinstance(i, Start)]

    return plain(a) == plain(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"benchmarks.inprocess: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        data = generate(args.events, Path(folder)).read_bytes()
        small = generate(max(args.events // 100, 200), Path(folder)).read_bytes()
    n = args.events
    header(f"per-item delivery, {n} events, {len(data) / 1e6:.1f} MB")
    equal = same(library(data, KIB64)(), floor(data, KIB64)())
    print(f"  same items (message_id aside): {equal}")
    ok = equal
    for size, label in ((KIB64, "64 KiB"), (512, "512 B")):
        times = timed_in_turns({"a": library(data, size), "c": floor(data, size)}, args.runs)
        ratio = turn_ratio(times, "a", "c")
        a_us, c_us = (median(times[k]) / n * 1e6 for k in ("a", "c"))
        print(
            f"  {label:>7} chunks: (a) chain {a_us:.2f} µs/event, (c) floor {c_us:.2f} µs/event, "
            f"(a)/(c) = {ratio:.2f}  [target <= 1.3: {verdict(ratio <= 1.3)}]"
        )
        if size == KIB64:
            big = a_us
        else:
            within = verdict(a_us <= 2 * big)
            print(f"  512 B / 64 KiB (chain) = {a_us / big:.2f}  [target <= 2: {within}]")
        ok = ok and ratio <= 1.3
    one = timed_in_turns({"a": library(small, 1)}, max(args.runs // 2, 1))
    per_byte = median(one["a"]) / len(small) * 1e6
    within = verdict(per_byte <= 1)
    print(f"  1-byte chunks: {per_byte:.3f} µs per input byte  [target <= 1: {within}]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
