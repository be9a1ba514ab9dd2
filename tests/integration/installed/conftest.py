"""The product as users get it: a wheel built from the Dockerfile's build context, in a fresh venv.

Session fixtures, built once: `image_root` (the Dockerfile's COPY lines replayed into a
folder standing for the image's `/`), `wheel` (`pip wheel --no-deps` where the build
stage runs it), `installed` (a new `python -m venv` with the wheel and its dependencies
from the package index; neither the system's nor the test environment's site-packages).
Commands run as the venv's `bin/news-monitor`, in a temporary working directory, with no
NEWS_MONITOR_ variable from the caller's environment.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.installed import dockerfile
from tests.integration.installed.product import Installed


def _run(argv: list[str], cwd: Path, what: str) -> None:
    """Run a setup step; fail the tests with its output if it fails."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stage's COPYs from the build context, replayed into one folder (the image's /)."""
    root = tmp_path_factory.mktemp("image-root")
    for stage in dockerfile.stages():
        for copy in stage.copies():
            if copy.from_stage is None:
                dockerfile.copy_into(copy, root)
    return root


@pytest.fixture(scope="session")
def wheel(image_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the build stage's `pip wheel` makes, built from only what that stage copied."""
    build = dockerfile.build_stage()
    project = dockerfile.in_image(image_root, build.workdir_of("pip wheel"))
    out = tmp_path_factory.mktemp("wheels")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out),
            ".",
        ],
        project,
        "building the wheel from the Dockerfile's build-stage context",
    )
    [built] = out.glob("news_monitor-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh venv with the wheel and its dependencies from the package index.

    The venv is made without pip and filled by the test environment's pip (`--python`),
    without byte-compiling: the same installed files, in a fraction of the time.
    """
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], venv, "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    _run(
        [*pip, "install", "--quiet", "--no-compile", str(wheel)],
        venv,
        "installing the wheel and its dependencies into the fresh venv",
    )
    return Installed(venv)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """An empty working directory (no config/, no monitor/ package beside it)."""
    path = tmp_path / "cwd"
    path.mkdir()
    yield path
