"""One frozen, validated settings object, loaded once from YAML plus environment.

Environment variables override the file: `NEWS_MONITOR_` + the key path joined
by `__`, e.g. `NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS=broker:9092`. Every
problem is reported at once as a `ConfigError` naming the file, key and reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "NEWS_MONITOR_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "monitor.yaml"


class Section(BaseModel):
    """Base for config sections: frozen, and unknown keys are errors (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Section):
    """Where and how stories are published."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "news.stories"
    deadletter_topic: str = "news.deadletter"
    partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    compression: Literal["zstd", "lz4", "gzip", "none"] = "zstd"
    client_id: str = "news-monitor"
    linger_ms: int = Field(default=20, ge=0)
    delivery_timeout_s: float = Field(default=120.0, gt=0)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None


class StateSettings(Section):
    """Where the worker keeps its state (dedup index, feed state, outbox)."""

    path: Path = Path("state/monitor.db")


class LogSettings(Section):
    """Logging: JSON lines when stdout is not a terminal, readable lines when it is."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class CleanSettings(Section):
    """Boilerplate stripping (owned by `monitor.clean`)."""


class DedupSettings(Section):
    """Deduplication (owned by `monitor.dedup`); see docs/dedup.md."""

    window_hours: float = Field(default=72.0, gt=0)
    """Stories and keys older than this (by publish time, else fetch time) expire."""
    tracking_params: tuple[str, ...] = ()
    """Extra query parameters to drop from URLs, beyond courlan's and our defaults."""
    near_threshold: float = Field(default=0.7, gt=0, le=1)
    """Estimated Jaccard of word shingles above which an item is a near-verbatim copy."""
    near_shingle: int = Field(default=5, ge=1, le=12)
    near_num_perm: int = Field(default=64, ge=16, le=512)
    near_min_words: int = Field(default=25, ge=1)
    """Texts shorter than this skip layer 2 (too few shingles to judge)."""
    story_threshold: float = Field(default=0.3, gt=0, le=1)
    """Layer-3 score at or above which an article joins the best candidate story."""
    word_weight: float = Field(default=0.3, ge=0)
    entity_weight: float = Field(default=1.0, ge=0)
    number_weight: float = Field(default=1.0, ge=0)
    quote_weight: float = Field(default=0.3, ge=0)
    title_weight: float = Field(default=0.0, ge=0, le=1)
    seen_norm: bool = False
    """Normalise the article by its terms seen before in the stream (see docs)."""
    number_cosine_weight: float = Field(default=0.6, ge=0)
    """Weight of the cosine over numbers alone, added to the score."""
    salient_names: int = Field(default=2, ge=0, le=16)
    """An article's main names: the names in its title and its most repeated names."""
    salient_max_df: float = Field(default=0.2, gt=0, le=1)
    """A name in more than this share of the stream is topic, never a main name."""
    salient_max_zipf: float = Field(default=5.0, ge=0)
    """A name whose word is this common in English (Zipf scale) is no main name."""
    novel_penalty: float = Field(default=0.5, ge=0, le=1)
    """Score factor when a main name of the article is missing from the story (1 = off)."""
    symmetric_contrast: bool = False
    """Penalise only when the story's own main names are also missing from the article."""
    profile_terms: int = Field(default=64, ge=4, le=512)
    """Terms kept per story profile (memory per story grows with it)."""
    title_terms: int = Field(default=24, ge=1, le=256)
    index_terms: int = Field(default=24, ge=1, le=128)
    """Top profile terms under which a story is listed in the inverted index."""
    query_terms: int = Field(default=24, ge=1, le=128)
    """Top article terms looked up in the inverted index."""
    posting_limit: int = Field(default=100, ge=1)
    """Most recent stories read per looked-up term (bounds the cost of common terms)."""
    max_candidates: int = Field(default=30, ge=1)
    """Candidate stories scored in full per article."""


class FilterSettings(Section):
    """Relevance filters (owned by `monitor.filters`)."""


class Settings(BaseSettings):
    """The whole configuration of one worker."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
    )

    kafka: KafkaSettings = KafkaSettings()
    state: StateSettings = StateSettings()
    logging: LogSettings = LogSettings()
    clean: CleanSettings = CleanSettings()
    dedup: DedupSettings = DedupSettings()
    filters: FilterSettings = FilterSettings()
    config_dir: Path = Field(default=Path("."), exclude=True)
    """Folder of the config file: relative paths in the config resolve against it."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (passed in as init kwargs).
        return (env_settings, init_settings)

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else self.config_dir / p


class ConfigProblem(BaseModel):
    """One problem in a config file: where, and why."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(Exception):
    """Invalid configuration; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(file=str(path), key="-", reason="file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(file=str(path), key="-", reason=str(exc))]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError([ConfigProblem(file=str(path), key=where, reason=reason)]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(file=str(path), key="-", reason="the top level must be a mapping")]
        )
    return data


def problems_from(exc: ValidationError, file: str) -> list[ConfigProblem]:
    """Turn a pydantic ValidationError into one problem per failing key."""
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "-"
        out.append(ConfigProblem(file=file, key=key, reason=err["msg"]))
    return out


def load_settings(path: Path | str | None = None) -> Settings:
    """Load and validate the settings from a YAML file (default: config/monitor.yaml)."""
    cfg = Path(path) if path is not None else DEFAULT_CONFIG
    data = _read_yaml(cfg)
    data["config_dir"] = cfg.resolve().parent
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, str(cfg))) from None
