"""The public surface: what ``__all__`` names exists, and the replay path stays light."""

import subprocess
import sys

import rxresponses
from rxresponses import operators


def test_operators_all_names_exist_and_include_the_five_factories() -> None:
    for name in operators.__all__:
        assert hasattr(operators, name), name

    assert {"frame", "decode", "dispatch", "collect_tools", "finalize"} <= set(operators.__all__)


def test_rxresponses_all_names_exist() -> None:
    for name in rxresponses.__all__:
        assert hasattr(rxresponses, name), name


def test_importing_the_replay_path_does_not_import_aiohttp() -> None:
    code = "import sys, rxresponses, rxresponses.cli; print('aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"
