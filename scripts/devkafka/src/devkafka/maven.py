"""Apache Kafka's broker jars from Maven Central, fetched once into a cache folder.

`fetch` writes `data/pom.xml.in` (Kafka plus an SLF4J 1.x binding for log4j) and runs
`mvn dependency:copy-dependencies`; on a terminal it shows the bytes Maven has downloaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from devkafka.tools import DevKafkaError, data_file, require_maven
from monitor.progress import Progress

KAFKA_VERSION = "4.3.1"  # 4.4.0 is on Central without kafka-tools-api 4.4.0: not resolvable
LOG4J_VERSION = "2.25.4"  # the log4j-core that kafka-server 4.3.1 depends on
DEPENDENCY_PLUGIN_VERSION = "3.8.1"


def cache_root() -> Path:
    """Where fetched jars are kept: `$NEWS_MONITOR_KAFKA_CACHE` or `~/.cache/news-monitor/kafka`."""
    env = os.environ.get("NEWS_MONITOR_KAFKA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "news-monitor" / "kafka"


def pom_xml(version: str = KAFKA_VERSION) -> str:
    """The generated POM whose runtime dependencies are the broker's classpath."""
    return data_file("pom.xml.in").format(
        kafka=version, log4j=LOG4J_VERSION, plugin=DEPENDENCY_PLUGIN_VERSION
    )


def fetch(version: str = KAFKA_VERSION, *, log: Callable[[str], None] | None = None) -> Path:
    """Return the folder of the broker's jars, fetching them with Maven unless cached."""
    root = cache_root() / version
    lib = root / "lib"
    pom = pom_xml(version)
    stamp = root / "lib.ok"
    digest = hashlib.sha256(pom.encode()).hexdigest()
    if _read(stamp) == digest:
        return lib
    mvn = require_maven()
    root.mkdir(parents=True, exist_ok=True)
    # Several test sessions may fetch at once: one fetches, the others wait and reuse.
    with _locked(root / ".lock"):
        if _read(stamp) == digest:
            return lib
        if log:
            log(f"devkafka: fetching Kafka {version} jars from Maven Central into {lib}")
        (root / "pom.xml").write_text(pom)
        staging = root / "lib.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-f", str(root / "pom.xml"), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        code, output = _run_maven(cmd, timeout=900)
        if code != 0:
            errors = [ln for ln in output.splitlines() if "ERROR" in ln][:3]
            raise DevKafkaError(
                f"devkafka: mvn failed ({code}) fetching Kafka {version}: "
                + (" | ".join(errors) or output.strip()[-500:])
            )
        jars = {p.name for p in staging.glob("*.jar")}
        for needed in (f"kafka_2.13-{version}.jar", f"log4j-slf4j-impl-{LOG4J_VERSION}.jar"):
            if needed not in jars:
                raise DevKafkaError(f"devkafka: mvn ran but {needed} is missing from {staging}")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        stamp.write_text(digest)
    return lib


_DOWNLOADED = re.compile(r"^Downloaded from \S+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB)")
_SIZES = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}


def maven_download_bytes(line: str) -> int | None:
    """The size of one file Maven reports as downloaded, or None for any other line."""
    found = _DOWNLOADED.match(line.strip())
    return round(float(found.group(1)) * _SIZES[found.group(2)]) if found else None


def _run_maven(cmd: list[str], timeout: float) -> tuple[int, str]:
    """Run Maven; on a terminal, show the bytes it has downloaded and the rate."""
    progress = Progress("devkafka: downloading Kafka's jars", unit="bytes")
    if not progress.enabled:
        done = subprocess.run(
            [*cmd, "-q"], capture_output=True, text=True, check=False, timeout=timeout
        )
        return done.returncode, done.stdout + done.stderr
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            size = maven_download_bytes(line)
            if size is not None:
                progress.advance(size)
        code = proc.wait()
    finally:
        timer.cancel()
        progress.close()
    return code, "".join(lines)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
