"""Observability: Prometheus metrics and the /metrics, /healthz, /readyz endpoint.

`Metrics` holds every instrument the worker updates, in its own
`CollectorRegistry` (never the global one, so tests and two workers in one
process do not collide). `Readiness` holds named checks the daemon registers,
e.g. `state_open` and `kafka_reachable`. `ObserveServer` serves all three
paths from a stdlib `ThreadingHTTPServer` in a daemon thread.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from connectors.polls import PollOutcome, PollStatus
from monitor import __version__
from monitor.config import ObserveSettings
from monitor.exits import CliError
from monitor.model import Outcome

NAMESPACE = "news_monitor"

# Feeds answer in 50 ms to tens of seconds (slow hosts, timeouts at 30 s).
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
# acks=all on one local broker is a few ms; a broker outage stretches it to the
# delivery timeout (120 s by default), which the top buckets must still show.
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
"""Seconds a poll began after its planned time: a healthy worker stays under a second."""
PUBLISH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)

Check = Callable[[], bool]


class Metrics:
    """Every Prometheus instrument of one worker, in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # `*_created` series double the output and no dashboard of ours reads
        # them (process-wide switch in prometheus-client).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        r, ns = self.registry, NAMESPACE
        self.build_info = Info("build", "Version of the running worker.", namespace=ns, registry=r)
        self.build_info.info({"version": __version__})
        self.items = Counter(
            "items",
            "Input items by their one recorded decision.",
            ["decision"],
            namespace=ns,
            registry=r,
        )
        self.items_in_flight = Gauge(
            "items_in_flight",
            "Items read from a source and not yet decided.",
            namespace=ns,
            registry=r,
        )
        self.feed_polls = Counter(
            "feed_polls",
            "Feed polls by outcome: changed, unchanged, failed, deferred, retired.",
            ["outcome"],
            namespace=ns,
            registry=r,
        )
        self.feed_fetches = Counter(
            "feed_fetches",
            "Fetches per feed, successful or not.",
            ["feed"],
            namespace=ns,
            registry=r,
        )
        self.feed_errors = Counter(
            "feed_errors",
            "Failed fetches per feed.",
            ["feed"],
            namespace=ns,
            registry=r,
        )
        self.feed_last_success = Gauge(
            "feed_last_success_timestamp_seconds",
            "Unix time of the last successful fetch per feed (alert on stale feeds).",
            ["feed"],
            namespace=ns,
            registry=r,
        )
        # Not labelled by feed: buckets x feeds would multiply the series; the
        # per-feed counters above are what points at a failing feed.
        self.fetch_seconds = Histogram(
            "fetch_duration_seconds",
            "Time to fetch one feed or page.",
            namespace=ns,
            registry=r,
            buckets=FETCH_BUCKETS,
        )
        self.feed_overflows = Counter(
            "feed_overflows",
            "Polls where every entry a feed listed was new: entries may have scrolled off it"
            " unseen (poll it more often, or the worker is behind).",
            ["feed"],
            namespace=ns,
            registry=r,
        )
        self.polls_skipped = Counter(
            "polls_skipped",
            "Polls due while the same feed's previous poll still ran or waited for a thread"
            " (the worker is behind its schedule).",
            ["feed"],
            namespace=ns,
            registry=r,
        )
        self.poll_lag_seconds = Histogram(
            "poll_lag_seconds",
            "How long after its planned time a feed's poll began.",
            namespace=ns,
            registry=r,
            buckets=LAG_BUCKETS,
        )
        self.outbox_depth = Gauge(
            "outbox_depth",
            "Messages in the outbox not yet acknowledged by Kafka.",
            namespace=ns,
            registry=r,
        )
        self.outbox_capacity = Gauge(
            "outbox_capacity",
            "Most messages the outbox holds before fetching pauses.",
            namespace=ns,
            registry=r,
        )
        self.outbox_full = Counter(
            "outbox_full",
            "Times fetching paused because the outbox was full.",
            namespace=ns,
            registry=r,
        )
        self.messages_published = Counter(
            "messages_published",
            "Messages acknowledged by Kafka, per topic.",
            ["topic"],
            namespace=ns,
            registry=r,
        )
        self.publish_errors = Counter(
            "publish_errors",
            "Failed publish attempts (retried from the outbox), per topic.",
            ["topic"],
            namespace=ns,
            registry=r,
        )
        self.publish_seconds = Histogram(
            "publish_duration_seconds",
            "Time from send to Kafka acknowledgement.",
            namespace=ns,
            registry=r,
            buckets=PUBLISH_BUCKETS,
        )
        # Zero series exist from the start, so rate() and alerts see them at once.
        for outcome in Outcome:
            self.items.labels(decision=outcome.value)
        for status in PollStatus:
            self.feed_polls.labels(outcome=status.value)

    def record_decision(self, outcome: Outcome | str) -> None:
        """Count one recorded decision."""
        self.items.labels(decision=str(outcome)).inc()

    def observe_fetch(self, feed: str, seconds: float, ok: bool) -> None:
        """Record one finished fetch of `feed`: how long it took and whether it failed."""
        self.feed_fetches.labels(feed=feed).inc()
        self.fetch_seconds.observe(seconds)
        if ok:
            self.feed_last_success.labels(feed=feed).set_to_current_time()
        else:
            self.feed_errors.labels(feed=feed).inc()

    def record_poll(self, outcome: PollOutcome) -> None:
        """Count one finished poll by outcome; a poll that sent a request is a fetch too.

        A deferred poll, or a retired feed not asked again, sent nothing: not a fetch.
        """
        self.feed_polls.labels(outcome=outcome.status.value).inc()
        if outcome.overflow:
            self.feed_overflows.labels(feed=outcome.name).inc()
        asked = outcome.status is not PollStatus.DEFERRED and not (
            outcome.status is PollStatus.RETIRED and outcome.state is None
        )
        if asked:
            self.observe_fetch(outcome.name, outcome.seconds, ok=not outcome.failed)


class Readiness:
    """Named readiness checks; ready only when every one passes."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) a check: a cheap, non-blocking callable returning bool."""
        with self._lock:
            self._checks[name] = check

    def remove(self, name: str) -> None:
        """Drop a check (no error if it is not there)."""
        with self._lock:
            self._checks.pop(name, None)

    def evaluate(self) -> dict[str, str]:
        """Run every check: name -> "ok", "failed" or "error: ..." (a raising check fails)."""
        with self._lock:
            checks = dict(self._checks)
        results: dict[str, str] = {}
        for name, check in sorted(checks.items()):
            try:
                results[name] = "ok" if check() else "failed"
            except Exception as exc:  # a broken check must not take the endpoint down
                results[name] = f"error: {type(exc).__name__}: {exc}"
        return results


def readiness_body(results: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Status code and JSON body for /readyz from check results."""
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return 503, {"status": "not ready", "failing": failing, "checks": results}
    return 200, {"status": "ready", "checks": results}


class _Handler(BaseHTTPRequestHandler):
    """Routes the three paths; the server object carries metrics and readiness."""

    server: _ObserveHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, content_type, encoder(self.server.metrics.registry))
        elif path == "/healthz":
            self._send_json(200, {"status": "ok"})
        elif path == "/readyz":
            self._send_json(*readiness_body(self.server.readiness.evaluate()))
        else:
            self._send_json(404, {"error": f"no such path: {path}"})

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(body).encode("utf-8"))

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # A scrape every few seconds would drown the worker's own log lines.
        return


class _ObserveHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, readiness: Readiness) -> None:
        self.metrics = metrics
        self.readiness = readiness
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class ObservePortError(CliError, OSError):
    """The metrics endpoint cannot bind its address (port taken, no permission)."""


class ObserveServer:
    """The HTTP endpoint, served from a daemon thread until `stop()`."""

    def __init__(self, settings: ObserveSettings, metrics: Metrics, readiness: Readiness) -> None:
        self.settings = settings
        self.metrics = metrics
        self.readiness = readiness
        self._httpd: _ObserveHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the port and serve in the background (`ObservePortError` if it cannot)."""
        if self._httpd is not None:
            return
        host, port = self.settings.host, self.settings.port
        try:
            self._httpd = _ObserveHTTPServer((host, port), self.metrics, self.readiness)
        except OSError as exc:
            raise ObservePortError(
                f"observe.port: cannot listen on {host}:{port} ({exc.strerror or exc}); set"
                " observe.port (NEWS_MONITOR_OBSERVE__PORT) to a free port, or observe.enabled:"
                " false"
            ) from None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="observe-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def port(self) -> int:
        """The bound port (the real one when settings asked for 0)."""
        if self._httpd is None:
            raise RuntimeError("the observe server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:9180."""
        host = self.settings.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> ObserveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_observe(
    settings: ObserveSettings, metrics: Metrics, readiness: Readiness
) -> ObserveServer | None:
    """Start the endpoint if `settings.enabled`; return it (None when disabled)."""
    if not settings.enabled:
        return None
    server = ObserveServer(settings, metrics, readiness)
    server.start()
    return server
