"""Where the evaluation and benchmark scripts find the development corpora.

`--corpora PATH` wins; else `shared/corpora` beside the repository (as CI lays it out);
else the workplace copy. The scripts say so and stop cleanly when none is there.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKPLACE = Path("/work/shared/corpora")


def corpora_dir(given: str | Path | None = None) -> Path:
    """Return the corpora folder to use."""
    if given:
        return Path(given)
    sibling = ROOT.parent / "shared" / "corpora"
    return sibling if sibling.is_dir() else WORKPLACE
