"""Relevance filters: keyword rules and an entity gazetteer that say why an item matched.

Use `RelevanceFilter.from_settings(settings.filters, settings.config_dir, file)`
once at start (bad rules raise `ConfigError` with every problem), then
`evaluate(article) -> Relevance` per article. See docs/filters.md.
"""

from monitor.filters.gazetteer import Entity, Gazetteer
from monitor.filters.relevance import DISABLED_REASON, RelevanceFilter
from monitor.filters.rules import Rule, RuleCompileError

__all__ = [
    "DISABLED_REASON",
    "Entity",
    "Gazetteer",
    "RelevanceFilter",
    "Rule",
    "RuleCompileError",
]
