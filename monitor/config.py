"""One frozen, validated settings object, loaded once from YAML plus environment.

Environment variables override the file: `NEWS_MONITOR_` + the key path joined
by `__`, e.g. `NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS=broker:9092`. Every
problem is reported at once as a `ConfigError` naming its origin (the file, or
the environment variable), the key and the reason (see `monitor.config_load`).
"""

from __future__ import annotations

import ipaddress
import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.config_env import ENV_PREFIX, origin_of
from monitor.config_errors import (
    ConfigError,
    ConfigProblem,
    problems_from,
    read_yaml,
)
from monitor.config_worker import (
    KafkaSettings,
    LogSettings,
    ObserveSettings,
    RoleSettings,
    Section,
    StateSettings,
    WorkerSettings,
)

__all__ = [
    "ENV_PREFIX",
    "ConfigError",
    "ConfigProblem",
    "KafkaSettings",
    "LogSettings",
    "ObserveSettings",
    "RoleSettings",
    "Settings",
    "StateSettings",
    "WorkerSettings",
    "load_settings",
    "problems_from",
    "read_yaml",
    "resolve_data",
]


def _default_config() -> Path:
    # A source checkout has config/ beside the package; an installed package carries
    # the same files as `monitor.defaults` (see pyproject.toml).
    checkout = Path(__file__).resolve().parent.parent / "config" / "monitor.yaml"
    if checkout.exists():
        return checkout
    return Path(str(resources.files("monitor.defaults").joinpath("monitor.yaml")))


DEFAULT_CONFIG = _default_config()


def resolve_data(path: Path, config_dir: Path) -> Path:
    """Resolve a data file named in the config (phrase list, gazetteer).

    Relative paths resolve against the config file's folder; a file that is not
    there falls back to the one shipped beside the default config, so a small
    config of your own need not copy the shipped data files.
    """
    if path.is_absolute():
        return path
    local = config_dir / path
    shipped = DEFAULT_CONFIG.parent / path
    return shipped if not local.exists() and shipped.exists() else local


class CleanSettings(Section):
    """Boilerplate stripping (owned by `monitor.clean`)."""

    phrases: Path = Path("boilerplate.yaml")
    """Phrase lists (YAML); relative to the config file's folder."""
    min_chars: int = Field(default=150, ge=0)
    """An item left with fewer characters of text is rejected, with the reason."""
    max_input_bytes: int = Field(default=8_000_000, ge=1_000)
    """Larger text or HTML is rejected before any parsing."""
    html_timeout_s: float = Field(default=15.0, gt=0)
    """Time limit for extracting one HTML page (the extraction process is killed)."""
    html_memory_mb: int = Field(default=1024, ge=128)
    """Address space extracting one page may add to the extraction process (MB)."""
    favor_precision: bool = True
    """trafilatura's precision preset: less boilerplate reaches dedup and the filters."""
    include_tables: bool = True
    deduplicate: bool = False
    date_extensive_search: bool = False
    """Let htmldate search the page text for dates (about a third slower)."""
    fallback_min_chars: int = Field(default=200, ge=0)
    """Shorter trafilatura output is retried with the recall preset, then the baseline."""
    head_window: int = Field(default=12, ge=1)
    """How many lines at the top are searched for the headline and site chrome."""
    chrome_max_words: int = Field(default=8, ge=1)
    template_min_count: int = Field(default=3, ge=2)
    """A line seen in this many other items of the same source is template."""
    template_max_share: float = Field(default=0.5, gt=0, le=1)
    """Template lines are not removed if they are more than this share of an item's text."""
    template_max_lines: int = Field(default=5_000, ge=100)
    """Line counts kept per source before the rarest are forgotten."""
    template_max_total_lines: int = Field(default=200_000, ge=1_000)
    """Line counts kept over all sources (~25 MB); past it the sources that learned least
    recently are forgotten first (their templates are learned again when they return)."""
    template_save_s: float = Field(default=300.0, gt=0)
    """How often the daemon saves what the template learner learned to the state database
    (and at every stop), so a restarted worker strips as before."""
    text_dates: bool = False
    """Take an undated text item's publish date from a full date at its top (a dateline).

    Off by default: it is a guess from free text, and with it the dedup window splits
    stories whose copies are dated further apart than `dedup.window_hours` (docs/clean.md)."""
    text_date_chars: int = Field(default=200, ge=20)
    """How far into the title and text a dateline is looked for."""
    numeric_date_order: Literal["mdy", "dmy"] = "mdy"
    """How to read an all-numeric date whose day and month are both <= 12 (05/02/2013)."""


class DedupSettings(Section):
    """Deduplication (owned by `monitor.dedup`); see docs/dedup.md.

    The story-joining rule is a learned model (monitor/dedup/model.json): only the
    window, the operating point and the identity/near-copy rules are settings.
    """

    window_hours: float = Field(default=336.0, gt=0)
    """An article joins stories whose event time (publish time, else fetch time) is
    within this of its own; state expires this long after it was seen."""
    story_threshold: float | None = Field(default=None, gt=0, lt=1)
    """Join probability needed to join a story; unset: the model's validated operating
    point. Higher: fewer false merges, more split stories."""
    near_threshold: float = Field(default=0.7, gt=0, le=1)
    """Estimated Jaccard of word shingles above which an item is a near-verbatim copy."""
    tracking_params: tuple[str, ...] = ()
    """Extra query parameters to drop from URLs, beyond courlan's and our defaults."""

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and (old := sorted(REMOVED_DEDUP_KEYS & data.keys())):
            raise ValueError(
                f"removed setting{'s' * (len(old) > 1)} {', '.join(old)}: story joining is "
                "a learned model now (see docs/dedup.md); delete "
                f"{'these keys' if len(old) > 1 else 'this key'}"
            )
        return data


REMOVED_DEDUP_KEYS = frozenset(
    {
        "near_shingle",
        "near_num_perm",
        "near_min_words",
        "word_weight",
        "entity_weight",
        "number_weight",
        "quote_weight",
        "title_weight",
        "seen_norm",
        "number_cosine_weight",
        "number_min_cosine",
        "salient_names",
        "salient_max_df",
        "salient_max_zipf",
        "novel_penalty",
        "date_penalty",
        "symmetric_contrast",
        "member_weight",
        "member_check",
        "member_limit",
        "member_terms",
        "profile_terms",
        "title_terms",
        "index_terms",
        "query_terms",
        "posting_limit",
        "max_candidates",
    }
)
"""Dedup settings of the hand-tuned scorer, removed: a config that still has one fails
with a message naming it."""


class FilterRule(Section):
    """One named relevance rule: a Lucene-style query (see docs/filters.md)."""

    name: str = Field(min_length=1)
    query: str
    tags: tuple[str, ...] = ()
    topic: str | None = None
    """An extra output topic for items this rule matches."""


class FilterSettings(Section):
    """Relevance filters (owned by `monitor.filters`)."""

    enabled: bool = True
    """False: every item passes (entities are still found and reported)."""
    gazetteer: Path | None = None
    """Entity gazetteer YAML, relative to the config file's folder."""
    rules: tuple[FilterRule, ...] = ()
    """An item is relevant if any rule matches; no rules: everything passes."""


class HttpSettings(Section):
    """The one shared HTTP client: identity, timeouts, size caps, politeness, safety."""

    user_agent: str = "news-monitor/0.1 (news feed reader; +set http.user_agent to add a contact)"
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    total_timeout_s: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Cap on a response body, counted on the wire and again after decompression."""
    max_redirects: int = Field(default=5, ge=0, le=20)
    allow_private: list[str] = Field(default_factory=list)
    """CIDRs or host names that may resolve to loopback/private/link-local addresses."""
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_delay_s: float = Field(default=1.0, ge=0)
    """Minimum gap between the starts of two requests to one host."""
    pool_size: int = Field(default=16, ge=1, le=512)
    """Concurrent fetches (scheduler workers, and the `run --once` pool)."""
    robots_cache_s: float = Field(default=3600.0, ge=0)
    verify_tls: bool = True

    @field_validator("allow_private")
    @classmethod
    def _cidrs_or_hosts(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if "/" in entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not a valid CIDR") from None
            elif not entry or any(c.isspace() for c in entry):
                raise ValueError(f"{entry!r} is not an address or host name")
        return entries


class ScheduleSettings(Section):
    """How often sources are polled, and how a failing source backs off."""

    jitter: float = Field(default=0.1, ge=0, le=1)
    """Random spread of each next check, as a fraction of the interval."""
    max_interval_s: float = Field(default=6 * 3600.0, gt=0)
    """Longest gap between checks of a healthy feed (TTL, Cache-Control, quiet feeds)."""
    error_backoff_s: float = Field(default=60.0, gt=0)
    slow_lane_after: int = Field(default=5, ge=1)
    """Consecutive errors after which a feed moves to the slow lane."""
    slow_lane_interval_s: float = Field(default=6 * 3600.0, gt=0)
    max_retry_after_s: float = Field(default=24 * 3600.0, gt=0)
    entry_retention_days: float = Field(default=90.0, gt=0)
    """How long a feed entry's key is remembered after it left the feed, so an entry
    that comes back is not handed on again. The state keeps one ~107-byte row per entry
    seen over this time: at 100,000 new entries a day, ~1 GB at 90 days."""


class SourceSettings(Section):
    """One configured source: a feed, and whether to fetch its article pages."""

    name: str = Field(min_length=1)
    url: str
    kind: Literal["auto", "rss", "atom", "json"] = "auto"
    interval_s: float = Field(default=900.0, ge=10)
    fetch_pages: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ReplaySourceSettings(Section):
    """Saved files replayed as a test feed under the scheduler (seed folder, .jsonl, .html)."""

    name: str = Field(min_length=1)
    path: Path
    """A file or folder, relative to the config file's folder."""
    speed: float = Field(default=0.0, ge=0)
    """0: as fast as possible; N: the gaps between publish dates, divided by N."""
    max_gap_s: float = Field(default=60.0, ge=0)
    """No pause between two items is longer than this."""
    interval_s: float | None = Field(default=None, ge=10)
    """Read the files again this often (new files are picked up); None: once per start."""


class Settings(BaseModel):
    """The whole configuration of one worker (`load_settings` adds the environment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kafka: KafkaSettings = KafkaSettings()
    roles: RoleSettings = RoleSettings()
    state: StateSettings = StateSettings()
    logging: LogSettings = LogSettings()
    observe: ObserveSettings = ObserveSettings()
    worker: WorkerSettings = WorkerSettings()
    clean: CleanSettings = CleanSettings()
    dedup: DedupSettings = DedupSettings()
    filters: FilterSettings = FilterSettings()
    http: HttpSettings = HttpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    sources: list[SourceSettings] = []
    replay: list[ReplaySourceSettings] = []
    config_dir: Path = Field(default=Path("."), exclude=True)
    """Folder of the config file: relative paths in the config resolve against it."""
    config_file: str = Field(default="<defaults>", exclude=True)
    """The config file's path as given, for error messages."""
    env_origins: dict[str, str] = Field(default_factory=dict, exclude=True)
    """Dotted key -> the environment variable that set it (the rest came from the file)."""
    warnings: tuple[ConfigProblem, ...] = Field(default=(), exclude=True)
    """What is valid but likely not meant (no sources at all): logged at start."""

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceSettings]) -> list[SourceSettings]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {', '.join(dupes)}")
        return sources

    @property
    def state_path(self) -> Path:
        """The state database; a relative path is taken from the working directory."""
        return self.state.path

    def origin(self, key: str) -> str:
        """Where `key` (dotted) was set: `env NAME`, else the config file."""
        name = origin_of(self.env_origins, tuple(key.split(".")))
        return f"env {name}" if name else self.config_file

    def blame(self, problems: list[ConfigProblem]) -> list[ConfigProblem]:
        """The problems, those filed against the config file moved to the variable that
        set their key, if one did."""
        return [
            p if p.file != self.config_file else p.model_copy(update={"file": self.origin(p.key)})
            for p in problems
        ]

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else self.config_dir / p


INTERNAL_FIELDS = frozenset({"config_dir", "config_file", "env_origins", "warnings"})
"""Fields of `Settings` that are not settings: neither the file nor the environment sets them."""


def load_settings(path: Path | str | None = None) -> Settings:
    """Load and validate the settings from a YAML file (default: config/monitor.yaml).

    The environment (`NEWS_MONITOR_*`) overrides the file; every problem, with its
    origin, is raised at once as one `ConfigError`.
    """
    from monitor.config_load import load

    return load(Path(path) if path is not None else DEFAULT_CONFIG, os.environ)
