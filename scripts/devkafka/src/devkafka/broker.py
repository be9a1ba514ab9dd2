"""One local Kafka broker process (KRaft, one node, combined roles): start, stop, kill, restart.

The broker runs as `java ... kafka.Kafka <dir>/server.properties` with its output in
`<dir>/kafka.out`; `<dir>/broker.json` records what was started so that `stop` signals
only that process.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from devkafka.maven import KAFKA_VERSION, fetch
from devkafka.procs import alive, is_our_broker, pdeathsig_hook, port_clash, read_from, tail
from devkafka.tools import DevKafkaError, data_file, require_java

HOST = "127.0.0.1"  # not "localhost": it may resolve to ::1 first
JVM_HEAP = ("-Xms256m", "-Xmx512m")
# C1 only: the JIT's second tier costs startup CPU a short-lived dev broker never earns back.
# No hsperfdata files left in /tmp.
JVM_FAST_START = ("-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")
STATE_FILE = "broker.json"
LOG_FILE = "kafka.out"
READY_LINE = "Kafka Server started"


@dataclass(frozen=True)
class Ports:
    """The client (PLAINTEXT) and controller ports of one broker."""

    client: int
    controller: int


def new_cluster_id() -> str:
    """A cluster id in Kafka's own form: base64url of 16 random bytes, unpadded, no leading '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def accepts_connections(port: int, timeout: float = 0.5) -> bool:
    """True when something listens on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A broker this module started; stop(), kill() and restart() touch only that process."""

    workdir: Path
    ports: Ports
    lib: Path
    pid: int = 0
    version: str = KAFKA_VERSION
    die_with_parent: bool = True
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        """The client bootstrap address, `127.0.0.1:<port>`."""
        return f"{HOST}:{self.ports.client}"

    @property
    def properties(self) -> Path:
        """The broker's server.properties."""
        return self.workdir / "server.properties"

    @property
    def data_dir(self) -> Path:
        """The KRaft log dir (metadata and topic data)."""
        return self.workdir / "data"

    @property
    def log_file(self) -> Path:
        """Where the broker's stdout and stderr go."""
        return self.workdir / LOG_FILE

    def running(self) -> bool:
        """True while the started broker process is alive."""
        if self._proc is not None:
            return self._proc.poll() is None
        return self.pid > 0 and is_our_broker(self.pid, self.properties)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the broker (Kafka's clean shutdown); SIGKILL it if still alive after timeout."""
        if self.running():
            self._signal(signal.SIGTERM)
            if not self._wait_gone(timeout):
                self._signal(signal.SIGKILL)
                if not self._wait_gone(10.0):
                    raise DevKafkaError(f"devkafka: broker pid {self.pid} survived SIGKILL")
        self._write_state(running=False)

    def kill(self) -> None:
        """SIGKILL the broker at once (a crash, for outage tests); data stays for restart()."""
        if self.running():
            self._signal(signal.SIGKILL)
            if not self._wait_gone(10.0):
                raise DevKafkaError(f"devkafka: broker pid {self.pid} survived SIGKILL")
        self._write_state(running=False)

    def restart(self, timeout: float = 90.0) -> None:
        """Stop the broker if running, then start it again on the same ports and data dir."""
        self.stop()
        self._launch(timeout)

    def __enter__(self) -> Broker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _signal(self, sig: signal.Signals) -> None:
        # Never signal a pid that is not the java kafka.Kafka process started with our
        # server.properties: after a reboot or a crash the pid may belong to anything.
        if self._proc is not None:
            if self._proc.poll() is None and is_our_broker(self._proc.pid, self.properties):
                self._proc.send_signal(sig)
        elif is_our_broker(self.pid, self.properties):
            os.kill(self.pid, sig)

    def _wait_gone(self, timeout: float) -> bool:
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(self.pid):
                return True
            time.sleep(0.1)
        return not alive(self.pid)

    def _launch(self, timeout: float) -> None:
        java = require_java()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        self.properties.write_text(
            data_file("server.properties.in").format(
                host=HOST,
                port=self.ports.client,
                controller_port=self.ports.controller,
                data=self.data_dir,
            )
        )
        broker_log4j = self.workdir / "log4j2-broker.properties"
        broker_log4j.write_text(data_file("log4j2-broker.properties"))
        classpath = f"{self.lib}/*"  # the JVM expands the wildcard itself
        if not (self.data_dir / "meta.properties").exists():
            self._format(java, classpath)
        # log4j's own shutdown hook would stop logging while Kafka's hook is still shutting
        # down, hiding the end of a clean shutdown from the log.
        # lz4-java and zstd-jni unpack their native libraries into java.io.tmpdir at every
        # start and leave them there: keep them in the broker's own dir, not in /tmp.
        tmp = self.workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        jvm_opts = [*JVM_HEAP, *JVM_FAST_START, "-Djava.awt.headless=true",
                    f"-Djava.io.tmpdir={tmp}",
                    f"-Dlog4j2.configurationFile={broker_log4j}",
                    "-Dlog4j2.shutdownHookEnabled=false"]  # fmt: skip
        with self.log_file.open("ab") as out:
            offset = out.tell()
            self._proc = subprocess.Popen(
                [java, *jvm_opts, "-cp", classpath, "kafka.Kafka", str(self.properties)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.workdir,
                # Own session: a Ctrl-C meant for the tests does not reach the broker; we stop it.
                start_new_session=True,
                preexec_fn=pdeathsig_hook() if self.die_with_parent else None,
            )  # fmt: skip
        self.pid = self._proc.pid
        try:
            self._await_ready(offset, timeout)
        except BaseException:
            self.kill()  # a broker that did not come up (or a Ctrl-C) leaves no process behind
            raise
        self._write_state(running=True)

    def _format(self, java: str, classpath: str) -> None:
        tools_log4j = self.workdir / "log4j2-tools.properties"
        tools_log4j.write_text(data_file("log4j2-tools.properties"))
        # Static controller.quorum.voters: format without --standalone (the tool refuses both).
        done = subprocess.run(
            [java, *JVM_FAST_START, f"-Dlog4j2.configurationFile={tools_log4j}", "-cp", classpath,
             "kafka.tools.StorageTool", "format", "-t", new_cluster_id(),
             "-c", str(self.properties)],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise DevKafkaError(
                f"devkafka: formatting {self.data_dir} failed: "
                + (done.stderr.strip() or done.stdout.strip())[-800:]
            )

    def _await_ready(self, offset: int, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerExited(
                    f"devkafka: broker exited with {self._proc.returncode} while starting; "
                    f"log {self.log_file}:\n{tail(self.log_file, offset)}",
                    port_clash=port_clash(self.log_file, offset),
                )
            if READY_LINE in read_from(self.log_file, offset) and accepts_connections(
                self.ports.client
            ):
                return
            time.sleep(0.1)
        raise DevKafkaError(
            f"devkafka: broker not ready after {timeout:.0f}s; log {self.log_file}:\n"
            + tail(self.log_file, offset)
        )

    def _write_state(self, *, running: bool) -> None:
        state = {
            "pid": self.pid if running else None,
            "bootstrap": self.bootstrap,
            "port": self.ports.client,
            "controller_port": self.ports.controller,
            "dir": str(self.workdir),
            "data": str(self.data_dir),
            "log": str(self.log_file),
            "lib": str(self.lib),
            "version": self.version,
            "running": running,
            "updated": datetime.now(UTC).isoformat(),
        }
        tmp = self.workdir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.workdir / STATE_FILE)


class BrokerExited(DevKafkaError):
    """The broker process ended while starting."""

    def __init__(self, message: str, *, port_clash: bool) -> None:
        super().__init__(message)
        self.port_clash = port_clash


def start_broker(
    workdir: Path,
    port: int = 0,
    *,
    version: str = KAFKA_VERSION,
    timeout: float = 90.0,
    die_with_parent: bool = True,
    log: Callable[[str], None] | None = None,
) -> Broker:
    """Format fresh KRaft storage in `workdir` and start a broker on 127.0.0.1:`port` (0 = free).

    With die_with_parent the broker gets SIGTERM if this process dies, so a killed test run
    leaves no broker behind.
    """
    workdir = Path(workdir).resolve()
    require_java()  # before fetching 44 MB of jars it could not run
    lib = fetch(version, log=log)
    data = workdir / "data"
    if data.exists() and any(data.iterdir()):
        raise DevKafkaError(f"devkafka: {data} is not empty; start_broker formats a fresh dir")
    attempts = 3 if port == 0 else 1
    for attempt in range(attempts):
        client = port or free_port()
        controller = free_port()
        while controller == client:
            controller = free_port()
        broker = Broker(
            workdir=workdir,
            ports=Ports(client, controller),
            lib=lib,
            version=version,
            die_with_parent=die_with_parent,
        )
        try:
            broker._launch(timeout)
            return broker
        except BrokerExited as exc:
            # A free port can be taken by someone else before the broker binds it: retry.
            if exc.port_clash and port != 0:
                raise DevKafkaError(
                    f"devkafka: port {port} or {controller} on {HOST} is in use; "
                    "choose another (--port 0 picks a free one)"
                ) from exc
            if not exc.port_clash or attempt == attempts - 1:
                raise
            shutil.rmtree(data, ignore_errors=True)
    raise AssertionError("unreachable")


def load_broker(workdir: Path) -> Broker | None:
    """The broker recorded in `workdir`'s state file, or None if there is none."""
    workdir = Path(workdir).resolve()
    try:
        state = json.loads((workdir / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DevKafkaError(f"devkafka: bad state file {workdir / STATE_FILE}: {exc}") from exc
    return Broker(
        workdir=workdir,
        ports=Ports(int(state["port"]), int(state["controller_port"])),
        lib=Path(state["lib"]),
        pid=int(state["pid"] or 0),
        version=str(state["version"]),
        die_with_parent=False,
    )
