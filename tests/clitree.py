"""The CLI's commands as `build_parser()` defines them, so tests never keep their own list."""

from __future__ import annotations

import argparse

from monitor.cli import build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_paths(parser: argparse.ArgumentParser | None = None) -> list[tuple[str, ...]]:
    """Every command and nested command, e.g. `("run",)`, `("sources", "import")`."""
    out: list[tuple[str, ...]] = []
    for name, sub in _subparsers(parser or build_parser()).items():
        out.append((name,))
        out.extend((name, *path) for path in command_paths(sub))
    return out


def top_level_commands() -> set[str]:
    """The names `news-monitor COMMAND` accepts."""
    return {path[0] for path in command_paths()}
