"""`run --role fetch|stories` as real processes against the real broker and a local feed server.

Three fetch instances share 300 feeds: a feed is never polled by two instances at once;
after `kill -9` of one, its feeds are polled by the others within one poll interval plus
the group's session timeout (and the rejoin); every entry reaches the stories topic
exactly once as a story. Two stories instances: `kill -9` of the active one mid-stream;
the standby rebuilds from the stories topic and goes on: nothing lost, nothing twice.
"""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from monitor.model import PASS_ALL, Article, Origin, stable_id
from monitor.publish.items import ItemRecord, encode_item
from tests.integration.harness import daemon, read_topic, serving, wait_for
from tests.integration.harness import log_events as events

pytestmark = pytest.mark.kafka

FEEDS = 300
INTERVAL_S = 10
SESSION_MS = 6000
HEARTBEAT_MS = 2000
REJOIN_S = 5.0
"""After the session timeout the survivors learn of the rebalance at their next heartbeat
(2 s) and rejoin; the first poll of a moved feed then comes within one interval."""

SYLLABLES = """
ka lo mi tu ren sal vor pim dax el quo bri stan fel gor hul jin kep lum nor pex rud sim
tov ulf vak wen yor zid ab oc ip um tra ple gro sni
""".split()  # noqa: SIM905


def entry_text(feed: int, entry: int) -> tuple[str, str]:
    """A headline and text of made-up words for one entry: its own story, like no other."""
    rng = random.Random(feed * 1000 + entry)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(3))

    title = f"Notice {feed:03d}-{entry}: {' '.join(word() for _ in range(6))}"
    sentences = [" ".join(word() for _ in range(8)).capitalize() + "." for _ in range(5)]
    return title, " ".join(sentences)


class FeedFarm(ThreadingHTTPServer):
    """Serves /feed/N.xml for N < FEEDS with `level` entries each; logs every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FarmHandler)
        self.level = 1
        self.polls: list[tuple[int, str, float, float]] = []
        """(feed, instance, start, end) of every feed request (monotonic seconds)."""
        self.lock = threading.Lock()
        self.published = datetime.now(UTC) - timedelta(hours=1)

    def feed(self, n: int) -> bytes:
        items = []
        for e in range(self.level):
            title, text = entry_text(n, e)
            when = format_datetime(self.published + timedelta(minutes=e))
            items.append(
                f"<item><title>{title}</title><link>http://127.0.0.1/a/{n}/{e}</link>"
                f"<guid>entry-{n}-{e}</guid><description>{text}</description>"
                f"<pubDate>{when}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {n}</title><link>http://127.0.0.1/</link>{''.join(items)}"
            "</channel></rss>"
        ).encode()


class FarmHandler(BaseHTTPRequestHandler):
    server: FeedFarm

    def do_GET(self) -> None:
        start = time.monotonic()
        name = self.path.rsplit("/", 1)[-1].removesuffix(".xml")
        if not self.path.startswith("/feed/") or not name.isdigit():
            self.send_response(404)
            self.end_headers()
            return
        body = self.server.feed(int(name))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.server.lock:
            agent = self.headers.get("User-Agent", "")
            self.server.polls.append((int(name), agent, start, time.monotonic()))

    def log_message(self, format: str, *args: object) -> None:
        pass


def write_config(tmp_path: Path, run: str, port: int | None) -> Path:
    sources = "".join(
        f"  - {{name: feed{n:03d}, url: 'http://127.0.0.1:{port}/feed/{n}.xml',"
        f" interval_s: {INTERVAL_S}}}\n"
        for n in range(FEEDS if port else 0)
    )
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"""
kafka:
  topic: {run}.stories
  deadletter_topic: {run}.deadletter
  partitions: 3
  connect_timeout_s: 5
  delivery_timeout_s: 25
  request_timeout_s: 10
roles:
  items_topic: {run}.items
  group_prefix: {run}
  fetch_partitions: 12
  session_timeout_ms: {SESSION_MS}
  heartbeat_interval_ms: {HEARTBEAT_MS}
observe:
  port: 0
filters:
  rules: []
schedule:
  jitter: 0
  max_interval_s: {INTERVAL_S}
http: {{allow_private: ["127.0.0.1"], per_host_delay_s: 0, per_host_concurrency: 16}}
sources:
{sources or "  []"}
""",
        encoding="utf-8",
    )
    return cfg


@contextmanager
def role(
    role_name: str, name: str, cfg: Path, bootstrap: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """One `news-monitor run --role` process; its JSON log lines go to `<name>.log`."""
    log = tmp_path / f"{name}.log"
    extra = {
        "NEWS_MONITOR_STATE__PATH": str(tmp_path / name / "monitor.db"),
        "NEWS_MONITOR_HTTP__USER_AGENT": name,
        "NEWS_MONITOR_ROLES__INSTANCE_ID": name,
    }
    with daemon(cfg, bootstrap, log, "--role", role_name, **extra) as proc:
        yield proc, log


def check_stories(messages: list[tuple[dict[str, Any], bytes | None]], titles: set[str]) -> None:
    """Every title reached the topic, each under one message id; no story created twice."""
    ids_by_title: dict[str, set[str]] = defaultdict(set)
    created: dict[str, set[str]] = defaultdict(set)
    for value, _ in messages:
        ids_by_title[value["article"]["title"]].add(value["message_id"])
        if value["event"] == "story.created":
            created[value["story_id"]].add(value["message_id"])
    missing = titles - ids_by_title.keys()
    assert not missing, f"{len(missing)} entries never reached the stories topic"
    twice = {t: ids for t, ids in ids_by_title.items() if len(ids) > 1}
    assert not twice, f"entries published under two message ids: {list(twice.items())[:3]}"
    again = {s: ids for s, ids in created.items() if len(ids) > 1}
    assert not again, f"stories created twice: {list(again.items())[:3]}"


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every instance still running: each leaves its group and exits 0."""
    live = [p for p in procs if p.poll() is None]
    for proc in live:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(30) for proc in live] == [0] * len(live)


def test_fetch_instances_share_the_feeds_and_take_over_a_killed_one(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    run = f"roles{uuid.uuid4().hex[:8]}"
    with serving(FeedFarm()) as farm, ExitStack() as stack:
        cfg = write_config(tmp_path, run, farm.server_port)
        stack.enter_context(role("stories", "stories-1", cfg, kafka_bootstrap, tmp_path))
        fetchers = {
            name: stack.enter_context(role("fetch", name, cfg, kafka_bootstrap, tmp_path))
            for name in ("fetch-a", "fetch-b", "fetch-c")
        }

        def owned(name: str) -> int:
            found = events(fetchers[name][1], "fetch.assignment")
            return int(found[-1]["owned"]) if found else 0

        def settled() -> bool:
            return all(owned(n) for n in fetchers) and sum(map(owned, fetchers)) == FEEDS

        wait_for(settled, 90, "three fetch instances sharing every feed")
        # One interval after the group settled, every feed has been polled by its owner.
        time.sleep(INTERVAL_S + 2)
        farm.level = 2  # a new entry on every feed
        steady_from = time.monotonic()
        time.sleep(INTERVAL_S + 2)
        with farm.lock:
            steady = [p for p in farm.polls if p[2] >= steady_from]
        owner: dict[int, set[str]] = defaultdict(set)
        for feed, agent, _, _ in steady:
            owner[feed].add(agent)
        assert set(owner) == set(range(FEEDS)), "every feed polled within one interval"
        shared = {f: a for f, a in owner.items() if len(a) > 1}
        assert not shared, f"feeds polled by two instances: {list(shared.items())[:3]}"

        victim = max(fetchers, key=owned)
        victims_feeds = {f for f, agents in owner.items() if agents == {victim}}
        proc, _ = fetchers[victim]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = time.monotonic()
        farm.level = 3  # one more entry, appearing after the kill

        def taken_over() -> set[int]:
            with farm.lock:
                return {f for f, a, s, _ in farm.polls if s > killed_at and a != victim}

        wait_for(lambda: victims_feeds <= taken_over(), 90, "the killed instance's feeds")
        bound = INTERVAL_S + SESSION_MS / 1000 + REJOIN_S
        with farm.lock:
            first: dict[int, float] = {}
            for feed, agent, start, _ in farm.polls:
                if start > killed_at and agent != victim and feed in victims_feeds:
                    first[feed] = min(first.get(feed, start), start)
        late = {f: round(t - killed_at, 1) for f, t in first.items() if t - killed_at > bound}
        assert not late, f"feeds taken over later than {bound}s after the kill: {late}"

        titles = {entry_text(f, e)[0] for f in range(FEEDS) for e in range(3)}

        def stories_done() -> bool:
            return titles <= {
                v["article"]["title"] for v, _ in read_topic(kafka_bootstrap, f"{run}.stories")
            }

        wait_for(stories_done, 120, "every entry on the stories topic")
        # No feed polled by two instances at the same moment, over the whole run.
        with farm.lock:
            polls = list(farm.polls)
        by_feed: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
        for feed, agent, start, end in polls:
            by_feed[feed].append((start, end, agent))
        for feed, spans in by_feed.items():
            spans.sort()
            for (_, end1, a1), (start2, _, a2) in itertools.pairwise(spans):
                assert a1 == a2 or start2 >= end1, f"feed {feed} polled by {a1} and {a2} at once"
        time.sleep(2)  # anything still on its way would show as a second message id
        check_stories(read_topic(kafka_bootstrap, f"{run}.stories"), titles)  # type: ignore[arg-type]
        stop_all([proc for proc, _ in fetchers.values()])


def item_record(n: int) -> ItemRecord:
    title, text = entry_text(900 + n % 100, n // 100)
    fetched = datetime.now(UTC)
    article = Article(
        item_id=stable_id("test-item", str(n)),
        input_id=f"item-{n}",
        source=f"outlet{n % 5}",
        title=title,
        text=text,
        url=f"https://outlet{n % 5}.example/news/{n}",
        guid=f"guid-{n}",
        published=fetched - timedelta(minutes=n % 50),
        fetched=fetched,
        origin=Origin.ENTRY,
    )
    return ItemRecord(article=article, relevance=PASS_ALL)


def test_the_standby_stories_instance_takes_over_a_killed_active_one(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    run = f"roles{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp_path, run, None)
    n_items = 400
    records = [item_record(n) for n in range(n_items)]
    topic = f"{run}.stories"

    def sender() -> None:
        # The fetch tier's stream: items, then some sent again (a re-fetch after a move).
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        for record in [*records, *records[: n_items // 8]]:
            key, value = encode_item(record)
            producer.send(f"{run}.items", key=key.encode(), value=value)
            time.sleep(0.04)
        producer.close()

    with ExitStack() as stack:
        members = {
            name: stack.enter_context(role("stories", name, cfg, kafka_bootstrap, tmp_path))
            for name in ("stories-1", "stories-2")
        }

        def state(name: str) -> str | None:
            log = members[name][1]
            changes = [
                (e["timestamp"], e["event"])
                for kind in ("stories.active", "stories.standby")
                for e in events(log, kind)
            ]
            return max(changes)[1] if changes else None

        def one_active() -> bool:
            return sorted(map(str, map(state, members))) == ["stories.active", "stories.standby"]

        wait_for(one_active, 90, "one active and one standby member")
        time.sleep(SESSION_MS / 1000)  # the group settles (a late joiner moves the partition)
        wait_for(one_active, 90, "one active and one standby member")
        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        (active,) = [n for n in members if state(n) == "stories.active"]
        wait_for(
            lambda: len(events(members[active][1], "item.decided")) >= n_items // 4,
            60,
            "the first decisions",
        )
        proc, _ = members[active]
        proc.send_signal(signal.SIGKILL)  # mid-stream: items decided, not all committed
        proc.wait(10)
        on_topic = len(read_topic(kafka_bootstrap, topic))
        assert on_topic < n_items, "the kill should land mid-stream"
        (standby,) = [n for n in members if n != active]
        wait_for(lambda: state(standby) == "stories.active", 60, "the standby taking over")
        thread.join(60)
        titles = {r.article.title for r in records}
        wait_for(
            lambda: (
                titles <= {v["article"]["title"] for v, _ in read_topic(kafka_bootstrap, topic)}
            ),
            120,
            "every item on the stories topic",
        )
        rebuilt = events(members[standby][1], "stories.rebuilt")
        assert rebuilt[-1]["restored"] > 0, "the take-over rebuilt from the stories topic"
        time.sleep(2)
        check_stories(read_topic(kafka_bootstrap, topic), titles)  # type: ignore[arg-type]
        stop_all([proc for proc, _ in members.values()])
