"""Where the evaluation and benchmark scripts find the development corpora.

`--corpora PATH` wins; else `$NEWS_MONITOR_CORPORA`; else `shared/corpora` beside the
repository (as CI lays it out). The scripts say so and stop cleanly when none is there.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = "NEWS_MONITOR_CORPORA"


def corpora_dir(given: str | Path | None = None, root: Path = ROOT) -> Path:
    """Return the corpora folder to use (it may not exist: the caller says so)."""
    if given:
        return Path(given)
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    return root.parent / "shared" / "corpora"
