"""`news-monitor replay`: saved files through the pipeline into Kafka or a dry-run sink."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import orjson

from connectors.replay import ReplayConnector
from monitor.exits import EXIT_FAIL, EXIT_OK, CliError
from monitor.model import Decision, Outcome, Rejected
from monitor.outputs import load, open_output
from monitor.pipeline import BATCH_SIZE, DecisionHook, batched
from monitor.progress import Progress
from monitor.publish.outbox import OutboxFull
from monitor.wiring import build_pipeline, build_stages


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


def summary(command: str, counts: Counter[str]) -> str:
    """`replay: 5 items: duplicate=1, published=4`."""
    text = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no items"
    return f"{command}: {sum(counts.values())} items: {text}"


def cmd_replay(args: argparse.Namespace) -> int:
    """Run saved files through the pipeline into the sink."""
    settings_in = load(args)
    counts: Counter[str] = Counter()
    with ExitStack() as stack:
        output = open_output(settings_in, args.sink, args.state, "replay")
        stack.callback(output.close)
        settings = output.settings
        explain = stack.enter_context(open_explain(args.explain)) if args.explain else None
        # Invalid rules or phrase lists fail here, before anything is read or sent.
        stages = build_stages(settings, no_filter=args.no_filter, state_path=settings.state_path)
        stack.callback(stages.close)
        publisher = output.publisher(stages)
        # One try to reach Kafka per run: if it is down, messages wait in the outbox.
        publisher.retry_s = float("inf")
        stack.callback(publisher.close)
        progress = Progress("replay")
        if progress.enabled:
            progress.total = count_items(args.paths)
        stack.callback(progress.close)
        hooks: list[DecisionHook] = [
            lambda d: counts.update([d.outcome.value]),
            lambda d: progress.advance(),
        ]
        if explain is not None:
            hooks.append(ExplainWriter(explain))
        pipeline = build_pipeline(settings, stages, publisher, hooks=tuple(hooks))
        publisher.start()
        try:
            for batch in batched(
                ReplayConnector(args.paths, max_bytes=settings.clean.max_input_bytes).items(),
                BATCH_SIZE,
            ):
                pipeline.process_many(batch)
        except OutboxFull as exc:
            progress.close()
            print(f"replay: stopped: {exc}; Kafka: {publisher.last_error}", file=sys.stderr)
            return EXIT_FAIL
        publisher.flush(timeout=settings.kafka.delivery_timeout_s)
        pending = publisher.pending()
        progress.close()
    print(summary("replay", counts), file=sys.stderr)
    if output.dry_run and publisher.failures:
        print(
            f"replay: --sink {args.sink}: writing failed ({publisher.last_error});"
            " messages are missing from it",
            file=sys.stderr,
        )
        return EXIT_FAIL
    if pending:
        print(
            f"replay: {pending} messages not acknowledged ({publisher.last_error});"
            f" they stay in the outbox {settings.state_path} and are sent on the next run",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_FAIL if counts[Outcome.REJECTED.value] else EXIT_OK
