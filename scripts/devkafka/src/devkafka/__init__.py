"""A local single-node Kafka broker (KRaft) from Maven Central jars, for development, tests and CI.

A development tool, not part of the news-monitor product: it is installed into the
development virtualenv only (scripts/setup) and never into the wheel or the image.
`python -m devkafka {fetch,start,stop,status,run}`; see docs/kafka.md. Modules: `maven`
(fetch the jars), `broker` (one broker process), `procs` (Linux process checks), `cli`,
`fixtures` (pytest fixtures), `tools` (errors, Java and Maven, the data files).
"""

from devkafka.broker import (
    HOST,
    STATE_FILE,
    Broker,
    Ports,
    accepts_connections,
    free_port,
    load_broker,
    start_broker,
)
from devkafka.maven import KAFKA_VERSION, cache_root, fetch, maven_download_bytes, pom_xml
from devkafka.procs import alive
from devkafka.tools import DevKafkaError, ToolMissing

__all__ = [
    "HOST",
    "KAFKA_VERSION",
    "STATE_FILE",
    "Broker",
    "DevKafkaError",
    "Ports",
    "ToolMissing",
    "accepts_connections",
    "alive",
    "cache_root",
    "fetch",
    "free_port",
    "load_broker",
    "maven_download_bytes",
    "pom_xml",
    "start_broker",
]
