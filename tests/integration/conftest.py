"""Fixtures of the integration tests (the broker fixtures come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.feedserver import FeedServer
from tests.integration.harness import serving


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """The local feed (`/feed.xml`, three stories, ETag "v1") on a free port."""
    with serving(FeedServer()) as server:
        yield server
