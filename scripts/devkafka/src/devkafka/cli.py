"""The command line: `python -m devkafka {fetch,start,stop,status,run}`; see docs/kafka.md."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from devkafka.broker import accepts_connections, load_broker, start_broker
from devkafka.maven import KAFKA_VERSION, fetch
from devkafka.procs import alive, is_our_broker
from devkafka.tools import DevKafkaError, ToolMissing


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _cmd_fetch(args: argparse.Namespace) -> int:
    print(fetch(args.kafka_version, log=_say))
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    old = load_broker(workdir)
    if old is not None and old.running():
        _say(f"devkafka: already running (pid {old.pid}, dir {workdir})")
        print(old.bootstrap)
        return 0
    if not args.keep_data:
        shutil.rmtree(workdir / "data", ignore_errors=True)
    if args.keep_data and old is not None and (workdir / "data" / "meta.properties").exists():
        old.die_with_parent = False
        old.restart(args.timeout)
        broker = old
    else:
        broker = start_broker(
            workdir, args.port, version=args.kafka_version, timeout=args.timeout,
            die_with_parent=False, log=_say,
        )  # fmt: skip
    _say(f"devkafka: Kafka {broker.version} running, pid {broker.pid}, log {broker.log_file}")
    print(broker.bootstrap)
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    broker = load_broker(workdir)
    if broker is None or broker.pid == 0:
        _say(f"devkafka: no broker recorded as running in {workdir}")
        return 0
    if not alive(broker.pid):
        _say(f"devkafka: broker pid {broker.pid} already gone")
        broker._write_state(running=False)
        return 0
    if not is_our_broker(broker.pid, broker.properties):
        _say(
            f"devkafka: pid {broker.pid} is not the kafka.Kafka process started from "
            f"{broker.properties}; not signalling it"
        )
        broker._write_state(running=False)
        return 1
    broker.stop(args.timeout)
    _say(f"devkafka: stopped broker pid {broker.pid}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    broker = load_broker(workdir)
    if broker is None or not broker.running():
        print(f"stopped ({workdir})")
        return 3
    ready = "accepting clients" if accepts_connections(broker.ports.client) else "not answering"
    print(f"running {broker.bootstrap} pid {broker.pid} {ready} ({workdir})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    cmd: list[str] = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        _say("devkafka: run needs a command: python -m devkafka run -- CMD ...")
        return 2
    own_dir = args.dir is None
    workdir = Path(tempfile.mkdtemp(prefix="devkafka-run-")) if own_dir else Path(args.dir)
    if not own_dir:
        shutil.rmtree(workdir / "data", ignore_errors=True)
    try:
        broker = start_broker(
            workdir, args.port, version=args.kafka_version, timeout=args.timeout, log=_say
        )
    except BaseException:
        if own_dir:  # the error message already carries the broker log's tail
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGHUP)}
    # A terminal's Ctrl-C reaches CMD itself (same process group); we wait for it to finish.
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _say(f"devkafka: Kafka {broker.version} at {broker.bootstrap} (pid {broker.pid})")
        env = dict(os.environ, NEWS_MONITOR_TEST_BOOTSTRAP=broker.bootstrap)
        env["KAFKA_BOOTSTRAP"] = broker.bootstrap
        try:
            child = subprocess.Popen(
                cmd, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
            )
        except OSError as exc:
            _say(f"devkafka: cannot run {cmd[0]}: {exc}")
            return 127
        code = child.wait()
        return code if code >= 0 else 128 - code
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Silent when all went well, so that CMD's own closing line (pytest's) stays last.
        if own_dir and not broker.running():
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m devkafka`."""
    parser = argparse.ArgumentParser(
        prog="python -m devkafka",
        description="A local single-node Kafka broker (KRaft, no Docker) from Maven Central jars.",
    )
    parser.add_argument(
        "--kafka-version", default=KAFKA_VERSION, help=f"Kafka release (default {KAFKA_VERSION})"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the broker jars with Maven (cached) and print their dir")
    start = sub.add_parser("start", help="start a broker in the background; print its bootstrap")
    start.add_argument("--dir", default=".kafka", help="broker dir (default .kafka)")
    start.add_argument("--port", type=int, default=9092, help="client port, 0 = a free one")
    start.add_argument("--keep-data", action="store_true", help="reuse the data of the last run")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for ready")
    stop = sub.add_parser("stop", help="stop the broker started in --dir")
    stop.add_argument("--dir", default=".kafka")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    status = sub.add_parser("status", help="is the broker in --dir running? (exit 0 yes, 3 no)")
    status.add_argument("--dir", default=".kafka")
    run = sub.add_parser(
        "run",
        help="start a broker, run CMD with NEWS_MONITOR_TEST_BOOTSTRAP set, stop the broker",
    )
    run.add_argument("--dir", default=None, help="broker dir (default: a temporary one)")
    run.add_argument("--port", type=int, default=0, help="client port, 0 = a free one")
    run.add_argument("--timeout", type=float, default=90.0)
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ...")
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "fetch": _cmd_fetch,
        "start": _cmd_start,
        "stop": _cmd_stop,
        "status": _cmd_status,
        "run": _cmd_run,
    }
    try:
        return commands[args.command](args)
    except ToolMissing as exc:
        _say(str(exc))
        return 2
    except DevKafkaError as exc:
        _say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
