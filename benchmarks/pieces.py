"""The latency policy on its own: large chunks cut into pieces before framing, or framed whole.

    python -m benchmarks.pieces [--events 50000] [--runs 7]

``operators._pieces.first_pieces`` cuts a chunk longer than 8 KiB into pieces
of 1, 4, 16 and 64 KiB, so that its first items do not wait for the whole
chunk. The same chain (frame → decode → dispatch → collect_tools → finalize)
reads the yardstick stream in 64 KiB chunks with the policy and without it
(``frame_(cut=None)``), taking turns. Printed:

- what the policy costs: CPU µs per event with and without, and their ratio;
- what it gains: for each chunk, the CPU time from handing it to the chain to
  the first item the chain gives for it, p50 and p99, with and without.
"""

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from rxresponses.operators import Item, collect_tools, decode, dispatch, finalize
from rxresponses.operators._frame import frame_
from rxresponses.operators._pieces import first_pieces

from ._util import clock, header, machine, median, percentile, timed_in_turns
from .process import generate

KIB64 = 64 * 1024
Cut = Callable[[bytes], Iterable[bytes]] | None


def _chain(source: Observable[bytes], cut: Cut) -> Observable[Item]:
    return source.pipe(frame_(cut=cut), decode(), dispatch(), collect_tools(), finalize(start=True))


def _stamped(chunks: list[bytes], arrivals: list[float]) -> Observable[bytes]:
    """The chunks, one ``on_next`` each, with the CPU time each was handed on."""

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        for chunk in chunks:
            arrivals.append(clock())
            observer.on_next(chunk)
        observer.on_completed()
        return Disposable()

    return Observable(subscribe)


def first_item_latencies(chunks: list[bytes], cut: Cut) -> list[float]:
    """For each chunk that gives an item: CPU seconds from handing it on to its first item."""
    arrivals: list[float] = []
    latencies: list[float] = []
    answered = 0  # chunks whose first item came

    def on_item(item: Item) -> None:
        nonlocal answered
        if answered < len(arrivals):
            latencies.append(clock() - arrivals[-1])
            answered = len(arrivals)

    _chain(_stamped(chunks, arrivals), cut).subscribe(on_item)
    return latencies


def throughput(chunks: list[bytes], cut: Cut) -> Callable[[], None]:
    def run() -> None:
        _chain(_stamped(chunks, []), cut).subscribe(lambda item: None)

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"benchmarks.pieces: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        data = generate(args.events, Path(folder)).read_bytes()
    chunks = [data[at : at + KIB64] for at in range(0, len(data), KIB64)]
    header(f"{args.events} events in {len(chunks)} chunks of 64 KiB")
    policies: dict[str, Cut] = {"in pieces": first_pieces, "whole": None}
    times = timed_in_turns({k: throughput(chunks, cut) for k, cut in policies.items()}, args.runs)
    cost = {k: median(v) / args.events * 1e6 for k, v in times.items()}
    print(
        f"  cost: {cost['in pieces']:.2f} µs/event in pieces, {cost['whole']:.2f} whole, "
        f"ratio {cost['in pieces'] / cost['whole']:.3f}"
    )
    for name, cut in policies.items():
        pooled: list[float] = []
        for _ in range(max(args.runs // 2, 1)):
            pooled += first_item_latencies(chunks, cut)
        print(
            f"  chunk -> first item, {name:>9}: p50 {percentile(pooled, 50) * 1e6:7.1f} µs, "
            f"p99 {percentile(pooled, 99) * 1e6:7.1f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
