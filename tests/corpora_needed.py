"""Tests on the development corpora: skipped without them, except under CI, where their
absence is a failure (a quality gate must never pass by not running)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def corpora_missing(what: str) -> NoReturn:
    """Fail under CI (`CI` set), else skip, saying which corpus is missing."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must provide the development corpora (../shared/corpora)")
    pytest.skip(what)
