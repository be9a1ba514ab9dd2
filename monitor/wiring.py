"""Build the stages from settings: the one place that turns config into objects.

Every stage validates its own part of the config at start; problems from all of
them are gathered into one `ConfigError`, so `check-config` reports them together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from monitor.clean import Cleaner
from monitor.config import ConfigError, ConfigProblem, Settings
from monitor.filters import RelevanceFilter

T = TypeVar("T")


@dataclass
class Stages:
    """The configured stages of one pipeline."""

    cleaner: Cleaner
    relevance: RelevanceFilter | None

    def close(self) -> None:
        """Release what the stages hold (the HTML extraction process)."""
        self.cleaner.close()


def _collect(problems: list[ConfigProblem], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def build_stages(settings: Settings, no_filter: bool = False) -> Stages:
    """Build every stage; raise one `ConfigError` listing all their problems."""
    problems: list[ConfigProblem] = []
    cleaner = _collect(problems, lambda: Cleaner.from_settings(settings.clean, settings.config_dir))
    relevance = _collect(
        problems,
        lambda: RelevanceFilter.from_settings(
            settings.filters, settings.config_dir, settings.config_file
        ),
    )
    if problems or cleaner is None:
        if cleaner is not None:
            cleaner.close()
        raise ConfigError(problems)
    return Stages(cleaner=cleaner, relevance=None if no_filter else relevance)
