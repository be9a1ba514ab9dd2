"""Load the configuration from its file and the environment, and find every problem at once.

Each problem names its true origin: the config file, or the `NEWS_MONITOR_*`
variable that set the key. Besides the schema, the checks `run` would otherwise
meet later are made here too: sources the HTTP policy refuses (private addresses
not in `http.allow_private`), duplicate sources, and (when asked, or when anything
else is wrong) the rules, gazetteer and phrase lists.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from connectors.addresses import AddressPolicy
from monitor.clean.phrases import load_phrases
from monitor.config import (
    INTERNAL_FIELDS,
    CleanSettings,
    FilterSettings,
    HttpSettings,
    ReplaySourceSettings,
    Settings,
    SourceSettings,
    resolve_data,
)
from monitor.config_env import deep_merge, origin_of, origins_below, read_env, unknown_key_reason
from monitor.config_errors import ConfigError, ConfigProblem, parse_yaml_file
from monitor.filters import RelevanceFilter

M = TypeVar("M", bound=BaseModel)

EMPTY_FILE = (
    "the file is empty: every setting would take its default (no sources, no rules);"
    " write '{}' in it to mean that"
)
NOTHING_TO_POLL = (
    "no sources and no replay folders: `news-monitor run` would poll nothing"
    " (fine for replay, inspect and consume)"
)


def load(path: Path, environ: Mapping[str, str]) -> Settings:
    """The validated settings; raise one `ConfigError` with every problem."""
    settings, problems = gather(path, environ)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def check(path: Path, environ: Mapping[str, str]) -> tuple[Settings | None, list[ConfigProblem]]:
    """Everything `check-config` reports: schema, sources, rules, gazetteer, phrase lists."""
    return gather(path, environ, stages=True)


def gather(
    path: Path, environ: Mapping[str, str], stages: bool = False
) -> tuple[Settings | None, list[ConfigProblem]]:
    """Read file and environment; return the settings (None if invalid) and every problem.

    The stage checks (rules, gazetteer, phrase lists) run when `stages` is set, and
    also whenever anything else is wrong, so one report lists all problems.
    """
    file = str(path)
    env = read_env(environ, Settings, INTERNAL_FIELDS)
    problems = list(env.problems)
    try:
        raw = parse_yaml_file(path)
    except ConfigError as exc:
        raise ConfigError(exc.problems + problems) from None
    data: dict[str, Any] = {}
    if raw is None:
        problems.append(ConfigProblem(file=file, key="-", reason=EMPTY_FILE))
    elif not isinstance(raw, dict):
        problems.append(ConfigProblem(file=file, key="-", reason="the top level must be a mapping"))
    else:
        data = {k: v for k, v in raw.items() if k not in INTERNAL_FIELDS}
        problems += [
            ConfigProblem(
                file=file, key=k, reason=unknown_key_reason(Settings, (), k, INTERNAL_FIELDS)
            )
            for k in raw
            if k in INTERNAL_FIELDS
        ]
    merged = deep_merge(data, env.data)
    internal = {
        "config_dir": path.resolve().parent,
        "config_file": file,
        "env_origins": env.origins,
    }
    settings: Settings | None = None
    try:
        settings = Settings.model_validate({**merged, **internal})
    except ValidationError as exc:
        problems += schema_problems(exc, file, env.origins)

    def origin(key: str) -> str:
        name = origin_of(env.origins, tuple(key.split(".")))
        return file if name is None else f"env {name}"

    sources = _section(_Sources, {k: merged.get(k, []) for k in ("sources", "replay")})
    http = _section(HttpSettings, merged.get("http", {}))
    if sources is not None and http is not None:
        problems += source_problems(sources.sources, sources.replay, http, origin)
    if settings is not None:
        settings = settings.model_copy(update={"warnings": tuple(warnings(settings))})
    if stages or problems:
        problems += stage_problems(merged, path.resolve().parent, file, env.origins)
    return settings, problems


def schema_problems(
    exc: ValidationError, file: str, origins: Mapping[str, str]
) -> list[ConfigProblem]:
    """One problem per failing key, from the variable that set it, else from the file."""
    out = []
    for err in exc.errors():
        loc = err["loc"]
        key = ".".join(str(p) for p in loc) or "-"
        if err["type"] == "extra_forbidden":
            reason = unknown_key_reason(Settings, loc[:-1], str(loc[-1]), INTERNAL_FIELDS)
        elif err["type"] == "value_error":
            reason = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            reason = err["msg"]
        name = origin_of(origins, loc)
        if name is not None:
            out.append(ConfigProblem(file=f"env {name}", key=key, reason=reason))
            continue
        below = origins_below(origins, loc)
        if below:
            reason += f" (with {', '.join(below)} from the environment)"
        out.append(ConfigProblem(file=file, key=key, reason=reason))
    return out


class _Sources(BaseModel):
    """The source lists alone, to judge them when another section is invalid."""

    sources: list[SourceSettings]
    replay: list[ReplaySourceSettings]


def source_problems(
    sources: Sequence[SourceSettings],
    replay: Sequence[ReplaySourceSettings],
    http: HttpSettings,
    origin: Callable[[str], str],
) -> list[ConfigProblem]:
    """Sources `run` would refuse or poll twice: private addresses not allowed, repeated URLs."""
    policy = AddressPolicy.from_config(http.allow_private)
    out: list[ConfigProblem] = []
    first_url: dict[str, int] = {}
    for i, source in enumerate(sources):
        key = f"sources.{i}.url"
        reason = address_refusal(source.url, policy)
        if reason is None and source.url in first_url:
            j = first_url[source.url]
            reason = f"same url as sources.{j} ({sources[j].name!r}): it would be polled twice"
        first_url.setdefault(source.url, i)
        if reason is not None:
            out.append(ConfigProblem(file=origin(key), key=key, reason=reason))
    names: dict[str, int] = {}
    for i, item in enumerate(replay):
        if item.name in names:
            key = f"replay.{i}.name"
            reason = f"duplicate replay name {item.name!r} (first at replay.{names[item.name]})"
            out.append(ConfigProblem(file=origin(key), key=key, reason=reason))
        names.setdefault(item.name, i)
    return out


def address_refusal(url: str, policy: AddressPolicy) -> str | None:
    """Why the HTTP policy would refuse `url`'s host, when that is known without DNS.

    Literal addresses and `localhost` names are judged here; other names are checked
    against the resolved address when fetched.
    """
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if not host:
        return "the URL has no host"
    if host == "localhost" or host.endswith(".localhost"):
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address("127.0.0.1")
    else:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return None
    refusal = policy.refusal(host, ip)
    if refusal is None:
        return None
    if host == str(ip):  # a literal address resolves to nothing but itself
        refusal = refusal.split(" resolves to ", 1)[-1]
    return f"{refusal}: `run` would refuse it; add it to http.allow_private to poll it"


def warnings(settings: Settings) -> list[ConfigProblem]:
    """What is valid but likely not meant: nothing to poll, replay folders not there."""
    out = []
    if not settings.sources and not settings.replay:
        out.append(
            ConfigProblem(file=settings.origin("sources"), key="sources", reason=NOTHING_TO_POLL)
        )
    for i, replay in enumerate(settings.replay):
        path = settings.resolve(replay.path)
        if not path.exists():
            key = f"replay.{i}.path"
            reason = f"{path} does not exist (yet): nothing to replay until it does"
            out.append(ConfigProblem(file=settings.origin(key), key=key, reason=reason))
    return out


def stage_problems(
    merged: Mapping[str, Any], config_dir: Path, file: str, origins: Mapping[str, str]
) -> list[ConfigProblem]:
    """Problems of the phrase lists, gazetteer and rules, for the sections that are valid."""
    out: list[ConfigProblem] = []
    clean = _section(CleanSettings, merged.get("clean", {}))
    if clean is not None:
        _collect(out, lambda: load_phrases(resolve_data(clean.phrases, config_dir)))
    filters = _section(FilterSettings, merged.get("filters", {}))
    if filters is not None:
        found: list[ConfigProblem] = []
        _collect(found, lambda: RelevanceFilter.from_settings(filters, config_dir, file))
        for p in found:
            name = origin_of(origins, tuple(p.key.split("."))) if p.file == file else None
            out.append(p if name is None else p.model_copy(update={"file": f"env {name}"}))
    return out


def _section(model: type[M], value: Any) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _collect(problems: list[ConfigProblem], build: Callable[[], object]) -> None:
    try:
        build()
    except ConfigError as exc:
        problems.extend(exc.problems)
