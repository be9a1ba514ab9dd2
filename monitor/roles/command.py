"""`news-monitor run --role fetch|stories`: check the arguments, build the role, run it."""

from __future__ import annotations

import argparse
import sys

from monitor.exits import EXIT_USAGE, CliError
from monitor.outputs import load
from monitor.roles.topics import RoleSetupError
from monitor.wiring import build_stages, build_worker

ROLES = ("fetch", "stories")


def refuse_options(args: argparse.Namespace) -> None:
    """`--role` runs a daemon over Kafka: `--once`, `--sink` and `--state` do not apply."""
    given = [
        opt
        for opt, on in (
            ("--once", args.once),
            (f"--sink {args.sink}", args.sink != "kafka"),
            ("--state", args.state is not None),
        )
        if on
    ]
    if given:
        raise CliError(
            f"--role {args.role} cannot be used with {', '.join(given)}: a role runs as a daemon"
            " over Kafka (a fetch instance keeps its state at state.path; a stories instance"
            " keeps none)",
            EXIT_USAGE,
        )


def cmd_role(args: argparse.Namespace) -> int:
    """Run this process as a fetch or a stories instance until SIGTERM/SIGINT."""
    refuse_options(args)
    settings = load(args, log_stream=sys.stdout)
    try:
        if args.role == "fetch":
            from monitor.roles.fetch import run_fetch

            worker = build_worker(settings)
            try:
                return run_fetch(worker)
            finally:
                worker.close()
        from monitor.roles.stories import run_stories

        # The stories instance's state is in memory, rebuilt from Kafka at each take-over;
        # the stages are built here to check the whole config at start, like `run`.
        stages = build_stages(settings)
        try:
            return run_stories(settings, stages.cleaner, stages.relevance)
        finally:
            stages.close()
    except RoleSetupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
