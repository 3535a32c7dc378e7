"""Timing helpers shared by the benchmark scripts.

In-process figures use the process's CPU time (``time.process_time``): on a
machine whose cores are shared, wall time also counts the time other
processes held the CPU. Everything timed this way runs on one thread.
"""

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping

#: The clock of in-process measurements: CPU seconds of this process.
clock = time.process_time


def timed(run: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    """CPU times (seconds) of ``runs`` calls of ``run`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        gc.collect()
        start = clock()
        run()
        times.append(clock() - start)
    return times


def timed_in_turns(
    runs_of: Mapping[str, Callable[[], object]], runs: int
) -> dict[str, list[float]]:
    """CPU times (seconds) of each callable in ``runs`` turns (after a warm-up turn).

    Taking turns spreads the noise of a shared machine over all of them, so
    their ratios hold even when the absolute figures drift.
    """
    times: dict[str, list[float]] = {name: [] for name in runs_of}
    for round_ in range(runs + 1):
        for name, run in runs_of.items():
            gc.collect()
            start = clock()
            run()
            if round_:
                times[name].append(clock() - start)
    return times


def medians(times: Mapping[str, list[float]]) -> dict[str, float]:
    """The median of each name's times."""
    return {name: median(values) for name, values in times.items()}


def timed_together(runs_of: Mapping[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median CPU time (seconds) of each callable, run in turns (see ``timed_in_turns``)."""
    return medians(timed_in_turns(runs_of, runs))


def turn_ratio(times: Mapping[str, list[float]], top: str, bottom: str) -> float:
    """The median over turns of ``top``'s time over ``bottom``'s in the same turn.

    Both ran within a second of each other, so a change of load between turns
    moves both; a ratio of the two medians may pair times from different turns.
    """
    return median([a / b for a, b in zip(times[top], times[bottom], strict=True)])


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def header(title: str) -> None:
    print(f"\n== {title}")


def machine() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    py = f"{platform.python_implementation()} {sys.version.split()[0]}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{stamp}; {py}; {platform.machine()}; {_cpus()} CPUs; load average {load}"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
