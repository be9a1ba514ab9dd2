"""The observe endpoint: a real server on a free port, real HTTP requests."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

import monitor
from monitor.config import ObserveSettings
from monitor.model import Outcome
from monitor.observe import Metrics, ObserveServer, Readiness, start_observe


def get(url: str, accept: str | None = None) -> tuple[int, str, str]:
    """GET url; return status, content type and body, for error statuses too."""
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode("utf-8")


@pytest.fixture
def readiness() -> Readiness:
    return Readiness()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def server(metrics: Metrics, readiness: Readiness) -> Iterator[ObserveServer]:
    with ObserveServer(ObserveSettings(port=0), metrics, readiness) as srv:
        yield srv


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_healthz_is_200_while_running(server: ObserveServer) -> None:
    status, ctype, body = get(server.url + "/healthz")
    assert status == 200
    assert ctype == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_metrics_serves_what_the_worker_counted(server: ObserveServer, metrics: Metrics) -> None:
    metrics.record_decision(Outcome.PUBLISHED)
    metrics.record_decision(Outcome.DUPLICATE)
    metrics.record_decision("duplicate")
    metrics.outbox_depth.set(7)
    metrics.feed_errors.labels(feed="yonhap").inc()
    metrics.publish_seconds.observe(0.02)

    status, ctype, body = get(server.url + "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain")
    got = samples(body)
    assert got[("news_monitor_items_total", (("decision", "published"),))] == 1
    assert got[("news_monitor_items_total", (("decision", "duplicate"),))] == 2
    assert got[("news_monitor_items_total", (("decision", "filtered"),))] == 0
    assert got[("news_monitor_outbox_depth", ())] == 7
    assert got[("news_monitor_feed_errors_total", (("feed", "yonhap"),))] == 1
    assert got[("news_monitor_publish_duration_seconds_count", ())] == 1
    assert got[("news_monitor_build_info", (("version", monitor.__version__),))] == 1


def test_metrics_speaks_openmetrics_when_asked(server: ObserveServer) -> None:
    status, ctype, body = get(server.url + "/metrics", accept="application/openmetrics-text")
    assert status == 200
    assert ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


def test_readyz_with_passing_checks_is_200(server: ObserveServer, readiness: Readiness) -> None:
    readiness.add("state_open", lambda: True)
    readiness.add("kafka_reachable", lambda: True)
    status, ctype, body = get(server.url + "/readyz")
    assert status == 200
    assert ctype == "application/json"
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"kafka_reachable": "ok", "state_open": "ok"},
    }


def test_readyz_names_every_failing_check(server: ObserveServer, readiness: Readiness) -> None:
    kafka_up = threading.Event()
    readiness.add("state_open", lambda: True)
    readiness.add("kafka_reachable", kafka_up.is_set)

    def broken() -> bool:
        raise OSError("disk gone")

    readiness.add("disk", broken)
    status, _, body = get(server.url + "/readyz")
    assert status == 503
    doc = json.loads(body)
    assert doc["status"] == "not ready"
    assert doc["failing"] == ["disk", "kafka_reachable"]
    assert doc["checks"]["disk"] == "error: OSError: disk gone"
    assert doc["checks"]["kafka_reachable"] == "failed"

    # Readiness follows the checks live, without a restart.
    kafka_up.set()
    readiness.remove("disk")
    status, _, body = get(server.url + "/readyz")
    assert status == 200, body


def test_unknown_path_is_404(server: ObserveServer) -> None:
    status, _, body = get(server.url + "/nope")
    assert status == 404
    assert "no such path" in json.loads(body)["error"]


def test_stop_releases_the_port(metrics: Metrics, readiness: Readiness) -> None:
    srv = ObserveServer(ObserveSettings(port=0), metrics, readiness)
    srv.start()
    url = srv.url + "/healthz"
    assert get(url)[0] == 200
    srv.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_disabled_settings_start_nothing(metrics: Metrics, readiness: Readiness) -> None:
    assert start_observe(ObserveSettings(enabled=False), metrics, readiness) is None
    srv = start_observe(ObserveSettings(port=0), metrics, readiness)
    assert srv is not None
    try:
        assert get(srv.url + "/healthz")[0] == 200
    finally:
        srv.stop()


def test_serves_on_ipv6_loopback(metrics: Metrics, readiness: Readiness) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        srv = ObserveServer(ObserveSettings(host="::1", port=0), metrics, readiness)
        srv.start()
    except OSError as exc:  # the kernel may have IPv6 off
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        assert srv.url.startswith("http://[::1]:")
        assert get(srv.url + "/healthz")[0] == 200
    finally:
        srv.stop()
