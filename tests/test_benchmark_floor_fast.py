"""The honest floor gives the library's items on the yardstick stream, whatever the chunking."""

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from rxresponses import from_bytes, responses
from rxresponses.operators import Item, Start

from benchmarks.floor_fast import run_fast_floor

YARDSTICKS = Path(__file__).resolve().parent.parent / "benchmarks" / "yardsticks"


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("yardstick") / "stream.sse"
    subprocess.run(
        [sys.executable, str(YARDSTICKS / "gen_stream.py"), "--events", "3000", "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=YARDSTICKS,
    )
    return out.read_bytes()


def _plain(items: list[Item]) -> list[bytes]:
    return [msgspec.json.encode(item) for item in items if not isinstance(item, Start)]


@pytest.mark.parametrize("size", [65536, 512, 7])
def test_floor_items_equal_the_chain_items(stream: bytes, size: int) -> None:
    ours: list[Item] = []
    floor: list[Item] = []
    responses(from_bytes(stream, size)).subscribe(ours.append)
    run_fast_floor((stream[i : i + size] for i in range(0, len(stream), size)), floor.append)

    assert len(ours) > 1000
    assert _plain(floor) == _plain(ours)


def test_the_whole_process_floor_writes_the_items_of_the_in_process_one(
    stream: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "stream.sse"
    path.write_bytes(stream)
    written = subprocess.run(
        [sys.executable, str(YARDSTICKS / "floor_replay.py"), str(path)],
        check=True,
        capture_output=True,
    ).stdout.splitlines()[1:]
    floor: list[Item] = []
    run_fast_floor([stream], floor.append)

    assert written == _plain(floor)
