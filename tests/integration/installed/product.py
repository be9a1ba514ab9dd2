"""The installed product: a venv holding the wheel, and how tests run its console script."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 240


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel installed; runs its `news-monitor` console script."""

    venv: Path

    @property
    def command(self) -> Path:
        """The console script, as `pip install` wrote it."""
        return self.venv / "bin" / "news-monitor"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The caller's environment without NEWS_MONITOR_* and PYTHON*, plus `extra`."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NEWS_MONITOR_", "PYTHON", "VIRTUAL_ENV"))
        }
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_S,
    ) -> subprocess.CompletedProcess[str]:
        """Run `news-monitor ARGS` in `cwd`; `env` adds variables (e.g. the bootstrap)."""
        return subprocess.run(
            [str(self.command), *args],
            cwd=cwd,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
