"""Shared fixtures for the clean tests: the real phrase file, a real cleaner, the seeds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.clean import Cleaner, Phrases, load_phrases
from monitor.config import CleanSettings
from monitor.model import RawItem

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
SEEDS = REPO / "seeds"
_HEADER = re.compile(r"^\s*date (\d{4}-\d{2}-\d{2}) ?")


@pytest.fixture(scope="session")
def phrases() -> Phrases:
    return load_phrases(CONFIG / "boilerplate.yaml")


@pytest.fixture(scope="session")
def cleaner() -> Iterator[Cleaner]:
    with Cleaner.from_settings(CleanSettings(), CONFIG) as c:
        yield c


def seed_item(path: Path) -> RawItem:
    """Read a seed the way the replay connector does: header off, title = first 4+ word line."""
    text = path.read_text(encoding="utf-8")
    published = None
    header = _HEADER.match(text)
    if header:
        text = text[header.end() :]
        published = datetime.fromisoformat(header.group(1)).replace(tzinfo=UTC)
    title = next((line for line in text.splitlines() if len(line.split()) >= 4), None)
    return RawItem(
        input_id=path.name, source=path.name, text=text, title=title, published=published
    )


def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))
