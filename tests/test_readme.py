"""The README's first example runs as written and does what it says."""

import re
import subprocess
import sys
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_compose_and_fan_out_example_runs_and_writes_its_log(tmp_path: Path) -> None:
    code = python_blocks()[0].replace('"tests/fixtures/', f'"{ROOT}/tests/fixtures/')
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "The capital of France is Paris." in result.stdout
    lines = (tmp_path / "log.jsonl").read_bytes().splitlines()
    items = [msgspec.json.decode(line) for line in lines]
    assert items[0]["type"] == "start"
    assert items[-1] == {"type": "done", "stop_reason": "end_turn", "last_sequence_number": None}
    assert "'items': " in result.stdout


def test_http_example_names_only_public_functions() -> None:
    import rxresponses.http

    code = python_blocks()[1]
    for name in re.findall(r"from rxresponses\.http import (.+)", code)[0].split(", "):
        assert hasattr(rxresponses.http, name.strip()), name
