"""`news-monitor replay`: saved files through the pipeline into Kafka or a dry-run sink."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import orjson

from connectors.replay import ReplayConnector
from monitor.config import Settings
from monitor.exits import CliError
from monitor.model import Decision, Rejected
from monitor.observe import Metrics
from monitor.outputs import load, open_output
from monitor.pipeline import DecisionHook
from monitor.progress import Progress
from monitor.publish import Publisher
from monitor.service import RunReport, print_report, run_pass
from monitor.wiring import Stages, build_worker


class ExplainWriter:
    """Writes one JSON line per decision (`--explain FILE`)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def __call__(self, decision: Decision) -> None:
        self.stream.write(orjson.dumps(decision.to_json()) + b"\n")


def open_explain(path: str) -> IO[bytes]:
    """Open the `--explain` file, or fail with one line naming the argument."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
    except OSError as exc:
        raise CliError(
            f"--explain {path}: cannot open it for writing ({exc.strerror or exc});"
            " give a writable file path"
        ) from None


def count_items(paths: list[Path]) -> int:
    """How many items a replay of `paths` holds (a file, or a `.jsonl` line, is one item)."""
    total = 0
    for entry in ReplayConnector(paths).files():
        if isinstance(entry, Rejected) or entry.suffix != ".jsonl":
            total += 1
            continue
        try:
            total += sum(1 for line in entry.read_bytes().splitlines() if line.strip()) or 1
        except OSError:
            total += 1
    return total


def cmd_replay(args: argparse.Namespace) -> int:
    """Run saved files through the pipeline into the sink (the worker `run --once` runs)."""
    settings_in = load(args)
    with ExitStack() as stack:
        output = open_output(settings_in, args.sink, args.state, "replay")
        stack.callback(output.close)
        settings = output.settings
        explain = stack.enter_context(open_explain(args.explain)) if args.explain else None
        progress = Progress("replay")
        hooks: list[DecisionHook] = [lambda d: progress.advance()]
        if explain is not None:
            hooks.append(ExplainWriter(explain))

        def publisher(settings: Settings, stages: Stages, metrics: Metrics) -> Publisher:
            made = output.publisher(stages, metrics)
            # One try to reach Kafka per run: if it is down, messages wait in the outbox.
            made.retry_s = float("inf")
            return made

        # Invalid rules or phrase lists fail here, before anything is read or sent.
        worker = build_worker(
            settings, publisher, hooks=tuple(hooks), no_filter=args.no_filter, feeds=False
        )
        stack.callback(worker.close)
        if progress.enabled:
            progress.total = count_items(args.paths)
        stack.callback(progress.close)
        items = ReplayConnector(args.paths, max_bytes=settings.clean.max_input_bytes).items()
        report = RunReport("replay", settings.state_path, sink=args.sink)
        run_pass(worker, items, report, dry_run=output.dry_run)
        progress.close()
    return print_report(report)
