"""The `news-monitor` command line: replay, consume, check-config (and more to come)."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, TextIO

import orjson
import structlog

from connectors.feedstate import load_feed_states, render_feed_table
from connectors.replay import ReplayConnector
from monitor import sources_cmd
from monitor.clean import render_inspection
from monitor.config import ConfigError, Settings, load_settings
from monitor.consumer import TopicMissing, read_stories, render_story
from monitor.logging import configure_logging
from monitor.model import PASS_ALL, Article, Decision, RawItem, Rejected, Relevance
from monitor.pipeline import BATCH_SIZE, DecisionHook, batched
from monitor.publish import Publisher
from monitor.publish.outbox import OutboxFull
from monitor.publish.sinks import open_stream_sink, parse_sink
from monitor.service import run_daemon, run_once
from monitor.wiring import (
    build_pipeline,
    build_stages,
    build_worker,
    kafka_publisher,
)

log = structlog.get_logger("monitor.cli")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _load(args: argparse.Namespace, log_stream: TextIO = sys.stderr) -> Settings:
    """Load settings and set up logging (to stderr: stdout carries the command's output)."""
    settings = load_settings(args.config)
    configure_logging(settings.logging, stream=log_stream)
    return settings


class ExplainWriter:
    """Writes one JSON line per decision (`--explain FILE`)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def __call__(self, decision: Decision) -> None:
        self.stream.write(orjson.dumps(decision.to_json()) + b"\n")


def cmd_replay(args: argparse.Namespace) -> int:
    """Run saved files through the pipeline into the sink."""
    settings = _load(args)
    counts: Counter[str] = Counter()
    with ExitStack() as stack:
        # Invalid rules or phrase lists fail here, before anything is read or sent.
        stages = build_stages(settings, no_filter=args.no_filter, state_path=settings.state_path)
        stack.callback(stages.close)
        kind, path = parse_sink(args.sink)
        if kind == "kafka":
            publisher = kafka_publisher(settings, stages)
            # One try to reach Kafka per run: if it is down, messages wait in the outbox.
            publisher.retry_s = float("inf")
        else:
            publisher = Publisher(lambda: open_stream_sink(kind, path))
        stack.callback(publisher.close)
        hooks: list[DecisionHook] = [lambda d: counts.update([d.outcome.value])]
        if args.explain:
            Path(args.explain).parent.mkdir(parents=True, exist_ok=True)
            hooks.append(ExplainWriter(stack.enter_context(open(args.explain, "wb"))))
        pipeline = build_pipeline(settings, stages, publisher, hooks=tuple(hooks))
        publisher.start()
        try:
            for batch in batched(ReplayConnector(args.paths).items(), BATCH_SIZE):
                pipeline.process_many(batch)
        except OutboxFull as exc:
            print(f"replay: stopped: {exc}; Kafka: {publisher.last_error}", file=sys.stderr)
            return EXIT_FAIL
        publisher.flush(timeout=settings.kafka.delivery_timeout_s)
        pending = publisher.pending()
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no items"
    print(f"replay: {sum(counts.values())} items: {summary}", file=sys.stderr)
    if pending:
        print(
            f"replay: {pending} messages not acknowledged ({publisher.last_error});"
            f" they stay in the outbox {settings.state_path} and are sent on the next run",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the worker: as a daemon, or once through every source (`--once`)."""
    settings = _load(args, log_stream=sys.stdout)
    worker = build_worker(settings)
    try:
        return run_once(worker) if args.once else run_daemon(worker)
    finally:
        worker.close()


def cmd_feeds(args: argparse.Namespace) -> int:
    """Show every polled feed's state as a table."""
    settings = _load(args)
    if not settings.state_path.exists():
        print(f"feeds: no state yet at {settings.state_path} (nothing polled)", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(render_feed_table(load_feed_states(settings.state_path)) + "\n")
    return EXIT_OK


def cmd_consume(args: argparse.Namespace) -> int:
    """Print the stories on the topic, as text or JSON lines."""
    settings = _load(args)
    shown = 0
    try:
        for value in read_stories(settings, args):
            shown += _show(value, args)
            if args.max and shown >= args.max:
                break
    except TopicMissing as exc:
        print(f"consume: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"consume: {shown} messages", file=sys.stderr)
    return EXIT_OK


def _show(value: dict[str, Any], args: argparse.Namespace) -> int:
    """Print one message, for a person or as a JSON line; return 1."""
    if args.json:
        sys.stdout.write(orjson.dumps(value).decode() + "\n")
    else:
        sys.stdout.write(render_story(value) + "\n\n")
    sys.stdout.flush()
    return 1


def _inspect_items(target: str, settings: Settings) -> list[RawItem | Rejected]:
    """Read the item(s) to inspect from a file, or fetch a URL (politely, robots.txt too)."""
    if not target.startswith(("http://", "https://")):
        return list(ReplayConnector([Path(target)]).items())
    from urllib.parse import urlsplit

    from connectors.http import PoliteClient
    from connectors.pages import PageFetcher, RobotsCache

    client = PoliteClient(settings.http)
    try:
        robots = RobotsCache(client, settings.http.user_agent, settings.http.robots_cache_s)
        raw = RawItem(input_id=target, source=urlsplit(target).hostname or target, url=target)
        page = PageFetcher(client, robots).enrich(raw)
    finally:
        client.close()
    error = page.meta.get("page_error")
    if error or not page.html:
        return [Rejected(target, raw.source, f"could not fetch the page: {error}")]
    return [page]


def cmd_inspect(args: argparse.Namespace) -> int:
    """Show what cleaning keeps and removes (and why) for a file or URL."""
    settings = _load(args)
    stages = build_stages(settings, no_filter=not args.relevance)
    try:
        for item in _inspect_items(args.target, settings):
            result = item if isinstance(item, Rejected) else stages.cleaner.clean(item)
            out = render_inspection(result, as_json=args.json)
            if args.relevance and isinstance(result, Article):
                match = stages.relevance.evaluate(result) if stages.relevance else PASS_ALL
                out = _with_relevance(out, match, as_json=args.json)
            sys.stdout.write(out + "\n")
    finally:
        stages.close()
    return EXIT_OK


def _with_relevance(rendered: str, match: Relevance, as_json: bool) -> str:
    """Add the filters' verdict and reasons to an inspection."""
    if as_json:
        data = orjson.loads(rendered)
        data["relevance"] = {"relevant": match.relevant, **match.to_json()}
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    lines = [
        rendered,
        "",
        "--- relevance ---",
        f"{'relevant' if match.relevant else 'FILTERED'}: {match.reason}",
    ]
    if match.rules:
        lines.append(f"rules: {', '.join(match.rules)}")
    lines += [f"[{e.type}] {e.name}: {e.surface!r} in {e.field} x{e.count}" for e in match.entities]
    return "\n".join(lines)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file with the environment; report every problem at once (exit 2)."""
    from monitor.config_load import check

    settings, problems = check(args.file, os.environ)
    for problem in problems:
        print(problem, file=sys.stderr)
    for warning in settings.warnings if settings else ():
        print(f"warning: {warning}", file=sys.stderr)
    if problems:
        print(f"check-config: {args.file}: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_USAGE
    print(f"check-config: {args.file}: OK")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand and its help."""
    parser = argparse.ArgumentParser(
        prog="news-monitor",
        description="Watch news sources and publish clean, de-duplicated, relevant stories"
        " to Kafka.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config",
            type=Path,
            default=None,
            help="YAML config file (default: config/monitor.yaml of the installation)",
        )

    rp = sub.add_parser(
        "replay",
        help="run saved files (seed .txt dumps, .jsonl, .html) through the pipeline",
        description="Replay saved files as a test feed: each .txt/.html file is one item, each"
        " .jsonl line is one item (id, url, title, text or html, published, source).",
    )
    rp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    with_config(rp)
    rp.add_argument(
        "--sink",
        default="kafka",
        help="kafka (default), stdout, or jsonl:PATH to write messages without Kafka",
    )
    rp.add_argument(
        "--explain", metavar="FILE", help="write one JSON line per input item with its decision"
    )
    rp.add_argument(
        "--no-filter",
        action="store_true",
        help="publish every item whatever the rules say (cleaning and dedup still run)",
    )
    rp.set_defaults(func=cmd_replay)

    cp = sub.add_parser(
        "consume",
        help="reference consumer: print the stories on the topic",
        description="Read story events from the topic and print them for a person (time,"
        " source, title, story id, what matched) or as JSON lines.",
    )
    with_config(cp)
    cp.add_argument("--from-beginning", action="store_true", help="start at the oldest message")
    cp.add_argument("--group", help="consumer group (commits offsets); default: none")
    cp.add_argument("--json", action="store_true", help="print each message value as a JSON line")
    cp.add_argument("--topic", help="topic to read (default: kafka.topic from the config)")
    cp.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long without a new message (default: run until Ctrl-C)",
    )
    cp.add_argument("--max", type=int, default=0, help="stop after this many messages")
    cp.set_defaults(func=cmd_consume)

    up = sub.add_parser(
        "run",
        help="run the worker: scheduled sources -> pipeline -> Kafka (SIGTERM stops it)",
        description="Run the daemon: the scheduler polls the configured sources (feeds,"
        " replay folders), the pipeline decides, the outbox delivers to Kafka. Serves"
        " /metrics, /healthz and /readyz. SIGTERM or SIGINT stops it cleanly.",
    )
    with_config(up)
    up.add_argument(
        "--once",
        action="store_true",
        help="poll every source once, publish, flush and exit (for cron and tests)",
    )
    up.set_defaults(func=cmd_run)

    fp = sub.add_parser(
        "feeds",
        help="show the state of every polled feed as a table",
        description="Show each feed's status, last success, next check, errors and items seen,"
        " from the state database.",
    )
    with_config(fp)
    fp.set_defaults(func=cmd_feeds)

    ip = sub.add_parser(
        "inspect",
        help="show the stripped article and every removed line with its rule",
        description="Clean one file (.txt dump, .html page, or each line of a .jsonl) and"
        " show the article text, its metadata, and every removed line with the rule that"
        " removed it.",
    )
    ip.add_argument("target", metavar="FILE_OR_URL")
    with_config(ip)
    ip.add_argument("--json", action="store_true", help="print JSON instead of text")
    ip.add_argument(
        "--relevance",
        action="store_true",
        help="also run the filters: relevant or not, the rules and entities that matched",
    )
    ip.set_defaults(func=cmd_inspect)

    kp = sub.add_parser(
        "check-config",
        help="validate a config file and report every problem at once",
        description="Validate FILE and the NEWS_MONITOR_* environment: schema, sources, rules,"
        " gazetteer and phrase lists. Each problem is printed as ORIGIN: KEY: REASON (ORIGIN is"
        " the file or 'env VARIABLE'); exit 0 when fine, 2 on problems. Warnings (such as"
        " nothing to poll) are printed but do not fail.",
    )
    kp.add_argument("file", type=Path, metavar="FILE")
    kp.set_defaults(func=cmd_check_config)
    sources_cmd.add_parser(sub, with_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `news-monitor` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `news-monitor consume | head`
        sys.stderr.close()
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
