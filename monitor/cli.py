"""The `news-monitor` command line: the parser, `run`, `feeds`, `check-config`, and the exit
codes and one-line errors of every command (see docs/cli.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from monitor import __version__, sources_cmd
from monitor.cmd_feeds import cmd_feeds
from monitor.cmd_read import cmd_consume, cmd_inspect
from monitor.cmd_replay import cmd_replay
from monitor.config import ConfigError
from monitor.exits import EXIT_OK, EXIT_USAGE, CliError
from monitor.outputs import load, open_output, sink_arg
from monitor.roles.command import ROLES, cmd_role
from monitor.service import run_daemon, run_once
from monitor.wiring import build_worker


def cmd_run(args: argparse.Namespace) -> int:
    """Run the worker: as a daemon, or once through every source (`--once`), or by role."""
    if args.role is not None:
        return cmd_role(args)
    if args.sink != "kafka" and not args.once:
        raise CliError(f"--sink {args.sink} needs --once (the daemon publishes to Kafka only)")
    # Logs go to stdout (the daemon's convention) unless stdout carries the messages.
    settings = load(args, log_stream=sys.stderr if args.sink != "kafka" else sys.stdout)
    output = open_output(settings, args.sink, args.state, "run --once")
    try:
        worker = build_worker(
            output.settings, lambda _settings, stages, metrics: output.publisher(stages, metrics)
        )
        try:
            if args.once:
                return run_once(worker, dry_run=output.dry_run, sink=args.sink)
            return run_daemon(worker)
        finally:
            worker.close()
    finally:
        output.close()


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


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2) that point to `--help`."""

    def error(self, message: str) -> NoReturn:
        """Print `news-monitor replay: error: ... (see --help)` and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand and its help."""
    parser = Parser(
        prog="news-monitor",
        description="Watch news sources and publish clean, de-duplicated, relevant stories"
        " to Kafka. Exit codes: 0 all good; 1 some inputs failed (a rejected item, a failed"
        " source, unacknowledged messages); 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"news-monitor {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    def with_output(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument(
            "--sink",
            default="kafka",
            type=sink_arg,
            help="kafka (default), stdout, or jsonl:PATH (appended) to preview without Kafka;"
            " a dry run uses a throw-away state unless --state is given",
        )
        p.add_argument(
            "--state",
            type=Path,
            default=None,
            metavar="PATH",
            help=f"state database for this {what} (default: state.path from the config;"
            " for a dry run a throw-away one)",
        )

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
    with_output(rp, "replay")
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
    with_output(up, "run")
    up.add_argument(
        "--role",
        choices=ROLES,
        default=None,
        help="run as one tier of a scaled-out monitor over Kafka: fetch (poll a share of the"
        " sources, publish items) or stories (dedup and publish stories; one active, others"
        " stand by); see docs/operations.md",
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
    """Entry point of the `news-monitor` console script; returns the exit code (0, 1, 2)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"news-monitor {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `news-monitor consume | head`
        sys.stderr.close()
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
