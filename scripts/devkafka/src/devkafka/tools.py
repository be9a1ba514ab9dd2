"""Errors, the Java and Maven the broker needs, and its template data files."""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import resources

INSTALL_HINT = "apt-get install -y openjdk-17-jre-headless maven"


class DevKafkaError(RuntimeError):
    """The local broker could not be fetched, started or stopped."""


class ToolMissing(DevKafkaError):
    """Java or Maven is not installed; the message is one line saying what to install."""


def data_file(name: str) -> str:
    """The text of one of the package's data files (`devkafka/data/NAME`)."""
    return resources.files("devkafka").joinpath("data", name).read_text(encoding="utf-8")


def require_java() -> str:
    """Return the java executable, or raise ToolMissing if there is no Java 17+."""
    java = shutil.which("java")
    if java is None:
        raise ToolMissing(f"devkafka: java not found on PATH (Kafka needs 17+): {INSTALL_HINT}")
    out = subprocess.run(
        [java, "-version"], capture_output=True, text=True, check=False, timeout=60
    ).stderr
    found = re.search(r'version "(\d+)', out)
    if found is None or int(found.group(1)) < 17:
        seen = found.group(1) if found else "unknown"
        raise ToolMissing(f"devkafka: Kafka 4 needs Java 17+, found {seen}: {INSTALL_HINT}")
    return java


def require_maven() -> str:
    """Return the mvn executable, or raise ToolMissing."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissing(
            f"devkafka: mvn not found on PATH (needed once to fetch Kafka's jars): {INSTALL_HINT}"
        )
    return mvn
