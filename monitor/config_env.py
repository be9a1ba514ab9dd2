"""Settings from the environment: `NEWS_MONITOR_` + the key path joined by `__`.

Each variable is checked against the settings model: a misspelt section or key is a
problem naming the variable, never silently ignored. Lists and whole sections are
given as JSON (`NEWS_MONITOR_HTTP__ALLOW_PRIVATE='["127.0.0.1"]'`); other values are
plain strings that the model converts. Pure functions over a mapping of variables.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from monitor.config_errors import ConfigProblem

ENV_PREFIX = "NEWS_MONITOR_"

NON_CONFIG_VARS = frozenset({"NEWS_MONITOR_TEST_BOOTSTRAP", "NEWS_MONITOR_KAFKA_CACHE"})
"""Variables the project reads that are not settings: the test suite's broker address
(the pytest fixtures of devkafka) and the Kafka jar cache of devkafka (scripts/devkafka)."""

Path_ = tuple[str | int, ...]


@dataclass
class EnvOverrides:
    """What the environment sets: nested values, the variable behind each key, problems."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    """Dotted key path (`kafka.bootstrap_servers`) -> the variable that set it."""
    problems: list[ConfigProblem] = field(default_factory=list)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds directly (a section), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a list's or tuple's items (`list[SourceSettings]`), else None."""
    if typing.get_origin(annotation) in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return _model_of(args[0]) if args else None
    return None


def _is_json(annotation: Any) -> bool:
    """Whether a field is a section, list, tuple or mapping (given as JSON in the environment)."""
    if _model_of(annotation) is not None:
        return True
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        return False
    return typing.get_origin(annotation) in (list, tuple, dict)


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The model that holds the keys under `path` (list indexes allowed), or None."""
    model: type[BaseModel] | None = root
    pending_list: type[BaseModel] | None = None
    for part in path:
        if isinstance(part, int):
            model, pending_list = pending_list, None
            continue
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        model, pending_list = _model_of(annotation), _item_model(annotation)
    return model


def unknown_key_reason(
    root: type[BaseModel], parent: Path_, key: str, hidden: frozenset[str] = frozenset()
) -> str:
    """Why `key` under `parent` is refused: the section it is not in, and the nearest key."""
    model = model_at(root, parent)
    known = [k for k in (model.model_fields if model else ()) if k not in hidden]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if not parent:
        return f"unknown section {key!r}{hint}"
    where = ".".join(str(p) for p in parent)
    return f"unknown key {key!r} in section {where!r}{hint}"


def _merge(into: dict[str, Any], path: list[str], value: Any) -> None:
    node = into
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _field_at(
    root: type[BaseModel], parts: list[str], hidden: frozenset[str]
) -> tuple[Any, str | None]:
    """The annotation of the field at `parts`, or None and why it cannot be set."""
    model, annotation = root, None
    for i, part in enumerate(parts):
        if part not in model.model_fields or (model is root and part in hidden):
            return None, unknown_key_reason(root, tuple(parts[:i]), part, hidden)
        annotation = model.model_fields[part].annotation
        if i == len(parts) - 1:
            break
        section = _model_of(annotation)
        if section is None:
            here = ".".join(parts[: i + 1])
            var = ENV_PREFIX + "__".join(parts[: i + 1]).upper()
            if _is_json(annotation):
                return None, f"{here!r} is a list: give it whole as JSON in {var}"
            return None, f"{here!r} is a single value, not a section: set {var}"
        model = section
    return annotation, None


def read_env(
    environ: Mapping[str, str], root: type[BaseModel], hidden: frozenset[str] = frozenset()
) -> EnvOverrides:
    """Read every `NEWS_MONITOR_*` variable into nested values with their origins.

    `hidden` are fields of `root` that are not settings (the config file's folder):
    setting them from the environment is refused like an unknown key.
    """
    out = EnvOverrides()
    names = [n for n in environ if n.upper().startswith(ENV_PREFIX)]
    # Whole sections (JSON) first, so a deeper variable overrides one key of them.
    for name in sorted(names, key=lambda n: (n.count("__"), n)):
        if name.upper() in NON_CONFIG_VARS:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        key = ".".join(parts)
        if not all(parts):
            reason: str | None = "empty key in the name ('__' twice in a row, or at an end)"
        else:
            annotation, reason = _field_at(root, parts, hidden)
        value: Any = environ[name]
        if reason is None and _is_json(annotation):
            try:
                value = json.loads(value)
            except ValueError as exc:
                reason = f"not valid JSON (lists and sections are given as JSON): {exc}"
        if reason is not None:
            out.problems.append(ConfigProblem(file=f"env {name}", key=key, reason=reason))
            continue
        _merge(out.data, parts, value)
        out.origins[key] = name
    return out


def origin_of(origins: Mapping[str, str], loc: Path_) -> str | None:
    """The variable that set `loc` or a key above it (the nearest), else None."""
    parts = [str(p) for p in loc]
    for end in range(len(parts), 0, -1):
        name = origins.get(".".join(parts[:end]))
        if name is not None:
            return name
    return None


def origins_below(origins: Mapping[str, str], loc: Path_) -> list[str]:
    """The variables that set keys under `loc` (for a problem of a whole section)."""
    prefix = ".".join(str(p) for p in loc)
    return sorted(v for k, v in origins.items() if not prefix or k.startswith(prefix + "."))


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `over` merged in, section by section (`over` wins)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
