"""Configuration problems: where each comes from (a file or an environment variable), and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class ConfigProblem(BaseModel):
    """One problem in the configuration: its origin, the key and the reason.

    `file` is the origin: a file's path as given, or `env NAME` for a value that came
    from the environment variable NAME.
    """

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


def parse_yaml_file(path: Path) -> Any:
    """Parse a YAML file (None when it holds nothing); problems raise `ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(file=str(path), key="-", reason="file not found")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(file=str(path), key="-", reason=str(exc))]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError([ConfigProblem(file=str(path), key=where, reason=reason)]) from None


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping (an empty file is an empty mapping); problems name the file."""
    data = parse_yaml_file(path)
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
