"""The installed distribution has one top-level name, ``rxresponses``, that user code cannot shadow.

The project is built and installed (not editable) into a fresh virtual
environment; its dependencies come from the test environment. A user's own
``pipeline.py`` and ``operators/`` package in the working directory must not
change what ``rxresponses`` imports or what its command line does.
"""

import os
import site
import subprocess
import venv
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "tests" / "fixtures" / "pydantic_ai" / "test_openai_responses_stream.1.sse"


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project installed from the checkout; its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    bin_dir = home / "bin"
    python = bin_dir / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], home
    ).stdout.strip()
    # Dependencies (and pip itself) from the test environment, after the venv's own.
    (Path(purelib) / "test-env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    build = tmp_path_factory.mktemp("build")
    done = _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--no-index",
            str(ROOT),
        ],
        build,
    )
    assert done.returncode == 0, done.stderr
    return bin_dir


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A working directory holding a user's own ``pipeline.py`` and ``operators`` package."""
    (tmp_path / "pipeline.py").write_text("raise SystemExit('the user pipeline.py was imported')\n")
    (tmp_path / "operators").mkdir()
    (tmp_path / "operators" / "__init__.py").write_text(
        "raise SystemExit('the user operators package was imported')\n"
    )
    return tmp_path


def test_installed_files_have_one_top_level_package(installed: Path, user_dir: Path) -> None:
    shown = _run([str(installed / "python"), "-m", "pip", "show", "-f", "rxresponses"], user_dir)

    assert shown.returncode == 0, shown.stderr
    files = shown.stdout.split("Files:", 1)[1].split()
    tops = {f.split("/", 1)[0] for f in files if not f.startswith("..")}
    packages = {top for top in tops if not top.endswith((".dist-info", ".egg-info"))}
    assert packages == {"rxresponses"}
    assert "rxresponses/operators/__init__.py" in files
    assert "rxresponses/py.typed" in files
    assert "rxresponses/operators/py.typed" in files
    assert not any(f.startswith(("pipeline/", "operators/")) for f in files)


def test_replay_from_a_directory_with_user_pipeline_and_operators(
    installed: Path, user_dir: Path
) -> None:
    done = _run([str(installed / "rxresponses"), "replay", str(RECORDING), "--jsonl"], user_dir)

    assert done.returncode == 0, done.stderr
    items = [msgspec.json.decode(line) for line in done.stdout.splitlines()]
    assert items[0]["type"] == "start"
    assert items[-1]["type"] == "done"
    assert any(item["type"] == "text" for item in items)


def test_python_m_rxresponses_and_import_ignore_user_modules(
    installed: Path, user_dir: Path
) -> None:
    python = str(installed / "python")
    imported = _run(
        [python, "-c", "import rxresponses, rxresponses.operators; print(rxresponses.__file__)"],
        user_dir,
    )
    module = _run([python, "-m", "rxresponses", "replay", str(RECORDING), "--jsonl"], user_dir)

    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(installed.parent)
    assert module.returncode == 0, module.stderr
    assert module.stdout.splitlines()[-1].startswith('{"type":"done"')


def test_user_pipeline_module_is_still_importable_beside_the_library(
    installed: Path, user_dir: Path
) -> None:
    (user_dir / "pipeline.py").write_text("NAME = 'mine'\n")
    code = "import rxresponses, pipeline; print(pipeline.NAME, rxresponses.responses.__module__)"
    done = _run([str(installed / "python"), "-c", code], user_dir)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["mine", "rxresponses._compose"]
