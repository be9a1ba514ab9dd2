"""Where a command's messages go (`--sink`) and which state it uses (`--state`).

Kafka runs use the configured state database. A dry run (`--sink stdout` or
`jsonl:PATH`) uses a throw-away state unless `--state PATH` names one, so previewing
never marks items as published for the real run. A sink that cannot be opened fails
here, before any item is read or recorded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from monitor.config import Settings, load_settings
from monitor.exits import CliError
from monitor.logging import configure_logging
from monitor.observe import Metrics
from monitor.publish import Publisher
from monitor.publish.sinks import StreamSink, open_stream_sink, parse_sink
from monitor.wiring import Stages, kafka_publisher


def load(args: argparse.Namespace, log_stream: TextIO | None = None) -> Settings:
    """Load `--config` and set up logging (to stderr: stdout carries the command's output)."""
    settings = load_settings(args.config)
    configure_logging(settings.logging, stream=log_stream or sys.stderr)
    return settings


def sink_arg(spec: str) -> str:
    """argparse `type` for `--sink`: reject an unknown sink before anything starts."""
    try:
        parse_sink(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return spec


@dataclass
class Output:
    """The opened sink (None for Kafka) and the settings with the state path to use."""

    spec: str
    settings: Settings
    sink: StreamSink | None = None
    note: str | None = None
    """The one line saying this is a dry run on a throw-away state (None otherwise)."""
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def dry_run(self) -> bool:
        """Whether messages go anywhere but Kafka."""
        return self.sink is not None

    def publisher(self, stages: Stages, metrics: Metrics | None = None) -> Publisher:
        """The dry-run sink's publisher, or Kafka through the outbox."""
        if self.sink is not None:
            sink = self.sink
            return Publisher(lambda: sink)
        return kafka_publisher(self.settings, stages, metrics)

    def close(self) -> None:
        """Close the dry-run sink (if its publisher has not) and remove a throw-away state."""
        if self.sink is not None:
            self.sink.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def with_state(settings: Settings, path: Path) -> Settings:
    """The settings with `state.path` replaced."""
    return settings.model_copy(update={"state": settings.state.model_copy(update={"path": path})})


def open_output(settings: Settings, spec: str, state: Path | None, command: str) -> Output:
    """Open the sink named by `--sink` and choose the state (`--state`, or a throw-away one)."""
    if state is not None:
        try:
            state.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(
                f"--state {state}: cannot create its folder ({exc.strerror or exc});"
                " give a writable path"
            ) from None
    kind, path = parse_sink(spec)
    if kind == "kafka":
        return Output(spec, with_state(settings, state) if state else settings)
    try:
        sink = open_stream_sink(kind, path)
    except OSError as exc:
        raise CliError(
            f"--sink {spec}: cannot open {path} for writing ({exc.strerror or exc});"
            " give a writable file path"
        ) from None
    if state is not None:
        return Output(spec, with_state(settings, state), sink)
    tmp = tempfile.TemporaryDirectory(prefix="news-monitor-dry-run-")
    note = (
        f"{command}: dry run (--sink {spec}): using a throw-away state, not"
        f" {settings.state_path}; --state PATH keeps one"
    )
    print(note, file=sys.stderr)
    return Output(spec, with_state(settings, Path(tmp.name) / "monitor.db"), sink, note, tmp)
