"""scripts/setup asks for kcat only with --test (the demo and the CLI do not use it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("java", "mvn", "sha256sum", "cut", "cat", "dirname")


def run_setup(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/setup on a PATH with every tool it checks for but kcat, as a non-root user."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run scripts/setup"
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    python = bin_dir / "python3.11"
    if not python.exists():
        python.symlink_to(ROOT / ".venv" / "bin" / "python")
    fake_id = bin_dir / "id"  # not root: setup names what is missing instead of installing
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(ROOT / "scripts" / "setup"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")},
        check=False,
    )


def test_setup_does_not_need_kcat(tmp_path: Path) -> None:
    res = run_setup(tmp_path)
    assert res.returncode == 0, res.stderr
    assert "kcat" not in res.stderr


def test_setup_for_tests_names_kcat(tmp_path: Path) -> None:
    res = run_setup(tmp_path, "--test")
    assert res.returncode == 2
    assert "missing: kcat" in res.stderr
