#!/usr/bin/env python
"""The whole worker and its parts, each figure beside the bare library doing the same work.

One command, by hand (never in tests). It starts its own local Kafka broker
(`monitor.devkafka`), runs the sections below in this one process (dedup probes in a
child process, as `bench_dedup.py` does), stops the broker and prints one table.

  text    synthetic news articles (2-4 KB, distinct stories) replayed from a .jsonl file
          through `build_stages/build_pipeline/kafka_publisher` (the `news-monitor replay`
          path, default config, filters on) into local Kafka: items/s and read->ack
          latency, once with every item on topic (the worst case: every item goes through
          story assignment and is published) and once with 1 in --on-topic-every (10) on
          topic; then the publish path (outbox + KafkaSink) on the first run's messages
          beside bare kafka-python with the same producer settings.
  publish the publish rows of `text` alone (quicker): the messages of --text-items stories
          (default 500) made by the real pipeline with a capturing sink, then the publish
          path beside bare kafka-python.
  html    pages/s of the clean stage beside bare `trafilatura.extract` on the same pages.
  dedup   per-item cost and memory with 10k/100k/1M indexed stories (bench_dedup.py).
  filters alias matching with 10, 1k, 100k aliases (bench_filters.py).
  feeds   polls/s and CPU per poll against a local server (bench_feeds.py).
  memory  RSS of the worker (`build_worker`) at 20 checkpoints while --items items with
          advancing publish times go through it in batches of 64 (the 72 h dedup window is
          full after a third of them, or after --window-items, then slides); flat is
          judged on the RSS slope over the last half of the run.

    python scripts/bench.py [--quick] [--items N] [--window-items N] [--only text,html,...]
                            [--on-topic-every N] [--corpora PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import io
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from monitor.config import Settings, load_settings
from monitor.model import RawItem

# The HTML extraction process is spawned: it runs this file's top level again (as
# __mp_main__) before it caps its address space, so the heavy imports stay out of it.
if __name__ != "__mp_main__":
    from connectors.replay import ReplayConnector
    from monitor.logging import configure_logging
    from monitor.pipeline import BATCH_SIZE
    from monitor.publish.kafka import BATCH_BYTES, KafkaSink, client_options
    from monitor.publish.message import OutMessage
    from monitor.state import transaction
    from monitor.wiring import build_pipeline, build_stages, build_worker, kafka_publisher


# Log lines are formatted as in production and thrown away; open for the whole run, as
# kafka-python's threads may still log while they close.
DEVNULL = open(os.devnull, "w")  # noqa: SIM115
SECTIONS = ("text", "publish", "html", "dedup", "filters", "feeds", "memory")


# --- the table -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the result table."""

    what: str
    project: str
    bare: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


@dataclass
class Report:
    """Rows collected by the sections, printed at the end."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: str) -> None:
        """Add a row and echo it at once (a long run shows progress)."""
        row = Row(*args)
        self.rows.append(row)
        say(f"  -> {row.what}: {row.project} | bare {row.bare or '-'} | {row.ratio} {row.met}")

    def render(self) -> str:
        """Return the table as Markdown."""
        head = ("what", "news-monitor", "bare library", "ratio", "target", "met")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = (r.what, r.project, r.bare, r.ratio, r.target, r.met)
            lines.append("| " + " | ".join(c or "" for c in cells) + " |")
        return "\n".join(lines)


def say(msg: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory now, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_rss_mib() -> float:
    """RSS of this process's live children (the HTML extraction process), MiB."""
    total = 0.0
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                total += rss_mib(stat.parent.name)
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine() -> str:
    """nproc, CPU model and load average, for the report header."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load}"


# --- synthetic news -------------------------------------------------------------------------

# On topic for the default rules (dprk-in-war): North Korea + a military word + Ukraine/Russia.
_LEADS = [
    "North Korean troops fighting for Russia were seen near {place}, {who} said on {day}.",
    "North Korea has sent more soldiers to Russia's war on Ukraine, {who} said on {day}.",
    "Ukrainian forces clashed with North Korean units near {place} on {day}, {who} said.",
    "North Korea shipped artillery shells and ammunition to Russia, {who} said on {day}.",
    "DPRK servicemen took part in combat in the Kursk region, {who} told reporters on {day}.",
]
_WHO = [
    "Ukraine's military intelligence",
    "a Ukrainian commander",
    "officials in Kyiv",
    "South Korea's spy agency",
    "a Pentagon spokesperson",
    "NATO's secretary general",
    "a senior Western diplomat",
    "the Ukrainian defence ministry",
    "analysts in Seoul",
]
_PLACES = [
    "Kursk",
    "Sudzha",
    "Pokrovsk",
    "Kupiansk",
    "Belgorod",
    "Bryansk",
    "Toretsk",
    "Kharkiv",
    "Zaporizhzhia",
    "Vovchansk",
    "Lyman",
    "Siversk",
    "Huliaipole",
    "Kramatorsk",
]
# Off topic for every default rule: markets, weather, sport, science (no alias of the gazetteer).
_OFF_LEADS = [
    "Shares in {who} rose sharply in {place} on {day} after a strong quarter, traders said.",
    "Heavy rain closed roads and schools across {place} on {day}, {who} said.",
    "{who} won the regional cup final in {place} on {day} after extra time.",
    "Researchers in {place} described a new species of beetle on {day}, {who} said.",
    "The city council of {place} approved a new budget for parks on {day}, {who} said.",
]
_OFF_WHO = [
    "the local weather office",
    "a spokesperson for the club",
    "the chamber of commerce",
    "the university's press office",
    "the mayor's office",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_OUTLETS = [f"outlet{n:02d}" for n in range(40)]


def _wordbank(rng: random.Random, n: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    out: set[str] = set()
    while len(out) < n:
        size = rng.randint(2, 4)
        out.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(size)))
    return sorted(out)


class NewsGenerator:
    """Distinct stories: a lead from the topic, then sentences of a private vocabulary.

    Each story draws its body words from its own slice of a 60k-word bank, so two
    stories share little beyond the topic words (story clustering keeps them apart),
    and no two lines repeat (the per-source template learner strips nothing).
    With `on_topic_every` N > 1 only every N-th story is on topic (the default rules
    pass it); the others are local news that no rule matches, as most of a general
    news feed is for a monitor that follows one story.
    """

    def __init__(self, seed: int = 11, on_topic_every: int = 1) -> None:
        self.rng = random.Random(seed)
        self.words = _wordbank(self.rng, 60_000)
        self.on_topic_every = on_topic_every

    def on_topic(self, n: int) -> bool:
        """Whether the n-th story is on topic."""
        return n % self.on_topic_every == 0

    def article(self, n: int) -> dict[str, Any]:
        """Return the n-th story as a replay `.jsonl` object (2-4 KB of text)."""
        rng = random.Random(n * 7919 + 1)
        start = (n * 211) % (len(self.words) - 400)
        private = self.words[start : start + 400]
        names = [w.capitalize() for w in rng.sample(private, 6)]
        on_topic = self.on_topic(n)
        if on_topic:
            place = rng.choice(_PLACES)
            lead = rng.choice(_LEADS).format(
                place=place, who=rng.choice(_WHO), day=rng.choice(_DAYS)
            )
        else:
            place = names[5]  # a town of the story's own vocabulary
            who = rng.choice([*_OFF_WHO, f"{names[2]} {names[3]}"])
            lead = rng.choice(_OFF_LEADS).format(place=place, who=who, day=rng.choice(_DAYS))
        paragraphs = [lead]
        target = rng.randint(2000, 3800)
        size = len(lead)
        while size < target:
            sentence = []
            for _ in range(rng.randint(3, 5)):
                words = rng.choices(private, k=rng.randint(8, 16))
                if rng.random() < 0.4:
                    words.insert(rng.randint(0, len(words)), rng.choice(names))
                if rng.random() < 0.2:
                    words.append(f"{rng.randint(2, 9_999):,}")
                sentence.append(" ".join(words).capitalize() + ".")
            para = " ".join(sentence)
            if rng.random() < 0.3:
                para += f" {names[0]} said the {'fighting' if on_topic else 'work'} near {place}"
                para += " continued."
            paragraphs.append(para)
            size += len(para) + 2
        topic = "North Korean troops" if on_topic else "council and traders"
        title = f"{names[0]} {names[1]}: {topic} near {place} ({n})"
        return {
            "id": f"bench-{n}",
            "source": rng.choice(_OUTLETS),
            "title": title,
            "text": "\n\n".join(paragraphs),
            "url": f"https://{rng.choice(_OUTLETS)}.example/world/{n}-{names[0].lower()}",
        }

    def write(self, folder: Path, count: int, start: datetime, step: timedelta) -> int:
        """Write `count` stories as `.jsonl` files of 1,000 lines (replay caps a file at
        20 MB), publish times from `start` by `step`; return the bytes written."""
        size = 0
        for first in range(0, count, 1000):
            with (folder / f"news-{first // 1000:04d}.jsonl").open("wb") as f:
                for n in range(first, min(count, first + 1000)):
                    obj = self.article(n)
                    obj["published"] = (start + n * step).isoformat()
                    line = orjson.dumps(obj) + b"\n"
                    size += len(line)
                    f.write(line)
        return size


# --- settings, broker ------------------------------------------------------------------------


def bench_settings(bootstrap: str, state: Path) -> Settings:
    """The default config, pointed at the bench broker and a fresh state file."""
    os.environ["NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS"] = bootstrap
    os.environ["NEWS_MONITOR_STATE__PATH"] = str(state)
    os.environ["NEWS_MONITOR_OBSERVE__ENABLED"] = "false"
    try:
        return load_settings()
    finally:
        for key in ("NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS", "NEWS_MONITOR_STATE__PATH"):
            os.environ.pop(key, None)


# --- text replay -------------------------------------------------------------------------------


class StageClock:
    """Wall time spent in each stage of the real pipeline objects (wrapped, not replaced)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, obj: Any, method: str, label: str) -> None:
        """Time every call of obj.method under `label`."""
        inner = getattr(obj, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - t

        setattr(obj, method, timed)

    def transactions(self) -> Callable[[], None]:
        """Time BEGIN and COMMIT of the pipeline's per-item transaction; return an undo."""
        import monitor.pipeline as pipeline_module

        original = pipeline_module.transaction  # type: ignore[attr-defined]

        @contextlib.contextmanager
        def timed(conn: Any) -> Iterator[None]:
            t = time.perf_counter()
            cm = original(conn)
            cm.__enter__()
            self._add("sqlite BEGIN/COMMIT", t)
            try:
                yield
            except BaseException:
                cm.__exit__(*sys.exc_info())
                raise
            t = time.perf_counter()
            cm.__exit__(None, None, None)
            self._add("sqlite BEGIN/COMMIT", t)

        pipeline_module.transaction = timed  # type: ignore[attr-defined]
        return lambda: setattr(pipeline_module, "transaction", original)

    def _add(self, label: str, since: float) -> None:
        self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - since


def warm_up(settings: Settings, tmp: Path) -> None:
    """Run a few items through a throwaway pipeline: first imports are not an item's cost."""
    from monitor.publish import Publisher
    from monitor.publish.sinks import open_stream_sink

    stages = build_stages(settings, state_path=tmp / "warm.db")
    publisher = Publisher(lambda: open_stream_sink("stdout", None), None)
    publisher.sink = _NullSink()
    pipeline = build_pipeline(settings, stages, publisher)
    gen = NewsGenerator(seed=99)
    for n in range(30):
        obj = gen.article(100_000 + n)
        pipeline.process(
            RawItem(
                input_id=obj["id"],
                source=obj["source"],
                text=obj["text"],
                title=obj["title"],
                url=obj["url"],
            )
        )
    stages.close()


class _NullSink:
    """Acknowledges everything at once, keeping what it got (warm-up, publish section)."""

    def __init__(self) -> None:
        self._acked: list[str] = []
        self.sent: list[OutMessage] = []

    def send(self, message: OutMessage) -> None:
        self._acked.append(message.message_id)
        self.sent.append(message)

    def acked(self) -> list[str]:
        out, self._acked = self._acked, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        return []

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


def timed_sink_class() -> type[Any]:
    """The real KafkaSink, also noting each message's ack time (defined late: see imports)."""

    class TimedSink(KafkaSink):
        """The real KafkaSink, also noting when each message was acknowledged."""

        read_at: float = 0.0
        """When the item being processed was read (set by the bench loop)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.started: dict[str, float] = {}
            self.latencies: list[float] = []
            self.sent: list[OutMessage] = []

        def send(self, message: OutMessage) -> None:
            """Note when the message's item was read, then send it as KafkaSink does."""
            self.started[message.message_id] = TimedSink.read_at
            self.sent.append(message)
            super().send(message)

        def _done(self, message_id: str, exc: BaseException | None) -> None:
            begun = self.started.pop(message_id, None)
            if exc is None and begun is not None:
                self.latencies.append(time.perf_counter() - begun)
            super()._done(message_id, exc)

    return TimedSink


@dataclass
class Replay:
    """What one text replay into Kafka measured."""

    count: int
    size: int
    """Bytes of .jsonl replayed."""
    wall: float
    cpu: float
    flush_s: float
    outcomes: dict[str, int]
    latencies: list[float]
    spent: dict[str, float]
    sent: list[OutMessage]
    pending: int

    @property
    def summary(self) -> str:
        """The outcomes, e.g. `filtered 2700, published 300`."""
        return ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))

    def stages(self) -> str:
        """Wall time per item by stage, largest first, with the unaccounted rest."""
        accounted = sum(self.spent.values()) + self.flush_s
        parts = sorted(self.spent.items(), key=lambda kv: -kv[1])
        parts.append(("other (encode, decisions, reading)", max(self.wall - accounted, 0.0)))
        return "; ".join(f"{k} {v / self.count * 1000:.2f} ms" for k, v in parts)


def replay_into_kafka(bootstrap: str, folder: Path, count: int, gen: NewsGenerator) -> Replay:
    """Write `count` stories of `gen` and replay them through every stage into Kafka."""
    data = folder / "news"
    data.mkdir(parents=True)
    now = datetime.now(UTC)
    size = gen.write(data, count, now - timedelta(hours=24), timedelta(seconds=24 * 3600 / count))
    settings = bench_settings(bootstrap, folder / "state.db")
    # Logging as the CLI does it (one JSON line per decision), into /dev/null: the
    # formatting is part of the cost, a terminal's speed is not.
    configure_logging(settings.logging, stream=DEVNULL)
    outcomes: dict[str, int] = {}
    stages = build_stages(settings, state_path=settings.state_path)
    publisher = kafka_publisher(settings, stages)
    topics = [rule.topic for rule in settings.filters.rules if rule.topic]
    TimedSink = timed_sink_class()
    publisher._connect = lambda: TimedSink(settings.kafka, topics=topics)
    publisher.retry_s = float("inf")

    def count_outcome(decision: Any) -> None:
        outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1

    warm_up(settings, folder)
    pipeline = build_pipeline(settings, stages, publisher, hooks=(count_outcome,))
    clock = StageClock()
    clock.wrap(stages.cleaner, "clean", "clean")
    clock.wrap(stages.dedup, "identity", "dedup identity")
    clock.wrap(stages.dedup, "assign", "dedup assign (story)")
    if stages.relevance is not None:
        clock.wrap(stages.relevance, "evaluate", "filters")
    clock.wrap(publisher, "stage", "publish: outbox put")
    clock.wrap(publisher, "send", "publish: send + settle")
    clock.wrap(pipeline, "_record", "decision log line")
    undo = clock.transactions()
    publisher.start()
    sink = publisher.sink
    assert isinstance(sink, TimedSink)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    # As `news-monitor replay` does it: batches of BATCH_SIZE items, one transaction
    # each (group commit); latency counts from the moment a batch is read.
    items = ReplayConnector([data]).items()
    while True:
        TimedSink.read_at = time.perf_counter()
        batch = list(islice(items, BATCH_SIZE))
        if not batch:
            break
        pipeline.process_many(batch)
    flush0 = time.perf_counter()
    publisher.flush(timeout=60)
    flush_s = time.perf_counter() - flush0
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    undo()
    pending = publisher.pending()
    publisher.close()
    stages.close()
    if not sink.latencies:
        raise SystemExit(f"text replay published nothing: {outcomes}")
    return Replay(
        count=count,
        size=size,
        wall=wall,
        cpu=cpu,
        flush_s=flush_s,
        outcomes=outcomes,
        latencies=sink.latencies,
        spent=clock.spent,
        sent=list(sink.sent),
        pending=pending,
    )


def runs_note(report: Report, worst: Replay | None, mixed: Replay, every: int) -> None:
    """From the two replays: what an off-topic and an on-topic item cost, and the largest
    on-topic share at which 1,000 items/s still holds."""
    if worst is None:
        return
    on = worst.wall / worst.count
    share = 1 / every
    # mixed = share * on + (1 - share) * off, per item (wall time)
    off = (mixed.wall / mixed.count - share * on) / (1 - share)
    if not 0 < off < on:
        return
    limit = (1e-3 - off) / (on - off)
    verdict = (
        f"1,000 items/s holds while at most {limit:.0%} of the items are on topic"
        if limit > 0
        else "1,000 items/s is out of reach even with no item on topic"
    )
    report.notes.append(
        f"From the two text replays (wall time per item): an item filtered out costs "
        f"{off * 1000:.2f} ms, an item on topic {on * 1000:.2f} ms (story assignment and "
        f"publishing); {verdict}."
    )


def bench_text(
    report: Report, bootstrap: str, tmp: Path, count: int, on_topic_every: int = 10
) -> None:
    """Replay `count` stories through every stage into Kafka, all on topic (the worst case)
    and 1 in `on_topic_every` on topic; then the publish path vs bare kafka-python."""
    publish_run: Replay | None = None
    for every in dict.fromkeys((1, on_topic_every)):
        gen = NewsGenerator(on_topic_every=every)
        run = replay_into_kafka(bootstrap, tmp / f"text-{every}", count, gen)
        lat = run.latencies
        say(f"text (1 in {every} on topic): {run.summary}; {len(lat)} messages acked")
        if every == 1:
            report.notes.append(
                f"Text replay: {count} synthetic stories ({run.size / count / 1024:.1f} KB/line)"
                f", default config with filters on: {run.summary}; {len(run.sent)} Kafka "
                f"messages (story topic + rule topics), {run.pending} left in the outbox."
            )
            what = "text replay, all stages -> Kafka, every item on topic (items/s)"
            topic = ""
        else:
            report.notes.append(
                f"Mixed text replay: the same kind of stories, 1 in {every} on topic and the "
                f"rest local news no rule matches: {run.summary}; {len(run.sent)} Kafka "
                f"messages, {run.pending} left in the outbox."
            )
            what = f"text replay, 1 item in {every} on topic, the rest filtered out (items/s)"
            topic = f" (1 in {every} on topic)"
        rate = count / run.wall
        report.add(
            what,
            f"{rate:,.0f} items/s ({run.cpu / count * 1000:.2f} ms CPU/item)",
            "",
            "",
            ">= 1,000 items/s",
            "yes" if rate >= 1000 else "NO",
        )
        report.add(
            f"text replay latency{topic}, read -> Kafka ack",
            f"p50 {pct(lat, 0.5) * 1000:.1f} ms, p99 {pct(lat, 0.99) * 1000:.1f} ms",
        )
        report.add(f"text replay{topic}, wall time per item by stage", run.stages())
        if every == 1:
            publish_run = run
        else:
            runs_note(report, publish_run, run, every)
    assert publish_run is not None
    in_pipeline = (
        publish_run.spent.get("publish: outbox put", 0)
        + publish_run.spent.get("publish: send + settle", 0)
        + publish_run.flush_s
    )
    settings = bench_settings(bootstrap, tmp / "text-1" / "state.db")
    bench_publish(report, settings, tmp, publish_run.sent, in_pipeline)


def bench_publish_only(report: Report, bootstrap: str, tmp: Path, count: int) -> None:
    """The publish rows alone: the pipeline's messages for `count` stories, then bench_publish."""
    from monitor.publish import Publisher

    settings = bench_settings(bootstrap, tmp / "publish" / "state.db")
    configure_logging(settings.logging, stream=DEVNULL)
    stages = build_stages(settings, state_path=settings.state_path)
    sink = _NullSink()
    publisher = Publisher(lambda: sink, None)
    publisher.start()
    pipeline = build_pipeline(settings, stages, publisher)
    gen = NewsGenerator()
    batch = []
    for n in range(count):
        obj = gen.article(n)
        batch.append(
            RawItem(
                input_id=obj["id"], source=obj["source"], text=obj["text"],
                title=obj["title"], url=obj["url"],
            )
        )  # fmt: skip
        if len(batch) == BATCH_SIZE or n == count - 1:
            pipeline.process_many(batch)
            batch = []
    stages.close()
    bench_publish(report, settings, tmp, sink.sent, None)


def bare_produce(
    settings: Settings, messages: list[OutMessage]
) -> tuple[float, list[float], float]:
    """Send the messages with a bare KafkaProducer (same settings); seconds, latencies and
    CPU seconds of the calling thread."""
    from kafka import KafkaProducer

    k = settings.kafka
    producer = KafkaProducer(
        **client_options(k),
        acks="all",
        enable_idempotence=True,
        compression_type=None if k.compression == "none" else k.compression,
        linger_ms=k.linger_ms,
        batch_size=BATCH_BYTES,
        delivery_timeout_ms=int(k.delivery_timeout_s * 1000),
        max_block_ms=5000,
    )
    producer.send(k.topic, key=b"warm", value=b"{}").get(timeout=30)  # metadata, connection
    latencies: list[float] = []
    lock = threading.Lock()

    def acked(begun: float) -> Callable[[Any], None]:
        def done(_meta: Any) -> None:
            with lock:
                latencies.append(time.perf_counter() - begun)

        return done

    start, cpu = time.perf_counter(), time.thread_time()
    for m in messages:
        future = producer.send(
            m.topic,
            key=m.key.encode("utf-8"),
            value=m.value,
            headers=[("message_id", m.message_id.encode("ascii"))],
        )
        future.add_callback(acked(time.perf_counter()))
    producer.flush(timeout=60)
    took, cpu = time.perf_counter() - start, time.thread_time() - cpu
    producer.close()
    return took, latencies, cpu


def bare_run(
    settings: Settings, messages: list[OutMessage], latencies: list[float]
) -> tuple[float, float]:
    """bare_produce, keeping the first run's latencies in `latencies`."""
    took, lat, cpu = bare_produce(settings, messages)
    if not latencies:
        latencies.extend(lat)
    return took, cpu


def project_publish(
    settings: Settings, tmp: Path, messages: list[OutMessage], outbox: bool = True
) -> tuple[float, float]:
    """Send the messages as the pipeline does: per batch of items, outbox rows in a transaction,
    send, settle (acks leave the outbox); flush at the end. Return seconds and CPU seconds
    of the calling thread."""
    stages_dir = tmp / f"publish-{time.monotonic_ns()}"
    stages_dir.mkdir()
    stages = build_stages(settings, state_path=stages_dir / "state.db")
    publisher = kafka_publisher(settings, stages)
    if not outbox:  # the Publisher and KafkaSink layers alone, as for a stream sink
        from monitor.publish import Publisher

        topics = [rule.topic for rule in settings.filters.rules if rule.topic]
        publisher = Publisher(lambda: KafkaSink(settings.kafka, topics=topics), None)
    publisher.start()
    publisher.publish([OutMessage(settings.kafka.topic, "warm", b"{}", f"warm-{time.time()}")])
    publisher.flush(timeout=30)
    # The pipeline's messages, grouped per item as it staged them (same value -> one item).
    groups: list[list[OutMessage]] = []
    for m in messages:
        if groups and groups[-1][0].value == m.value:
            groups[-1].append(m)
        else:
            groups.append([m])
    # A fresh state database: the outbox takes these ids again.
    start, cpu = time.perf_counter(), time.thread_time()
    # As the pipeline does it: the outbox rows of a batch of items in one transaction
    # (group commit), then the batch's messages sent.
    for i in range(0, len(groups), BATCH_SIZE):
        batch = [m for group in groups[i : i + BATCH_SIZE] for m in group]
        if outbox:
            with transaction(stages.state):
                publisher.stage(batch)
        publisher.send(batch)
    publisher.flush(timeout=60)
    took, cpu = time.perf_counter() - start, time.thread_time() - cpu
    assert publisher.pending() == 0, "publish path left messages in the outbox"
    publisher.close()
    stages.close()
    return took, cpu


def bench_publish(
    report: Report,
    settings: Settings,
    tmp: Path,
    messages: list[OutMessage],
    in_pipeline: float | None,
) -> None:
    """The publish path (outbox + KafkaSink) vs bare kafka-python on the same messages.

    Two views: (1) the publish calls inside the text replay just measured
    (`Publisher.stage` + `Publisher.send` with its settle, and the final flush; the
    item's BEGIN/COMMIT is shared with the dedup writes and not counted) against a
    bare producer sending those messages (skipped when `in_pipeline` is None); (2) the
    publish path alone, per batch of items one transaction as in
    `Pipeline.process_many`, over at least 6,000 messages.
    """
    if not messages:
        return
    n = len(messages)
    mb = sum(len(m.value) for m in messages) / 1e6
    say(f"publish: {n} messages, {mb:.1f} MB before compression")
    if in_pipeline is not None:
        bare_runs = [bare_produce(settings, messages) for _ in range(2)]
        b = min(t for t, _, _ in bare_runs)
        extra = in_pipeline / b - 1
        report.add(
            "publish calls inside the text replay (paced: ~1 msg per request) vs bare burst",
            f"{in_pipeline / n * 1e6:.0f} us/msg ({n:,} msgs)",
            f"{b / n * 1e6:.0f} us/msg",
            f"{extra * 100:+.0f}% time",
        )
    copies = max(1, -(-6000 // n))
    many = [
        OutMessage(m.topic, m.key, m.value, f"{m.message_id}-{k}")
        for k in range(copies)
        for m in messages
    ]
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": [], "layers": []}
    bare_lat: list[float] = []
    run: dict[str, Callable[[], tuple[float, float]]] = {
        "bare": lambda: bare_run(settings, many, bare_lat),
        "ours": lambda: project_publish(settings, tmp, many),
        "layers": lambda: project_publish(settings, tmp, many, outbox=False),
    }
    order = list(run)
    for r in range(5):  # best of five: the machine is shared, runs vary by 30%
        # The order turns each round, so that no kind always runs first or after the
        # same other kind (the broker is still busy with the last run's 28 MB).
        for key in order[r % 3 :] + order[: r % 3]:
            runs[key].append(run[key]())
    # Wall time decides. CPU time of the calling thread (the work the project adds
    # there: outbox statements, settle) is shown beside it; the producer's I/O thread
    # is left out, as it polls while it waits for the broker and so follows wall time.
    b, bc = (min(x[i] for x in runs["bare"]) for i in (0, 1))
    m = len(many)
    for key, what in (
        ("layers", "publish layers without the outbox (Publisher + KafkaSink)"),
        (
            "ours",
            "publish path alone, with the outbox (per batch of items: transaction, put, send,"
            " settle)",
        ),
    ):
        o, oc = (min(x[i] for x in runs[key]) for i in (0, 1))
        extra = o / b - 1
        report.add(
            what,
            f"{m / o:,.0f} msg/s ({o / m * 1e6:.0f} us/msg; caller {oc / m * 1e6:.0f} us CPU)",
            f"{m / b:,.0f} msg/s ({b / m * 1e6:.0f} us/msg; caller {bc / m * 1e6:.0f} us CPU)",
            f"{extra * 100:+.0f}% time, {(oc / bc - 1) * 100:+.0f}% CPU",
            "<= +20%",
            "yes" if extra <= 0.20 else "NO",
        )
    if bare_lat:
        report.add(
            "bare KafkaProducer latency, send -> ack (same messages)",
            "",
            f"p50 {pct(bare_lat, 0.5) * 1000:.1f} ms, p99 {pct(bare_lat, 0.99) * 1000:.1f} ms",
        )


# --- HTML --------------------------------------------------------------------------------------


def bench_html(report: Report, corpora: Path, count: int) -> None:
    """Pages/s of the clean stage beside bare trafilatura on the same pages."""
    import trafilatura
    from bench_clean import html_pages

    from monitor.clean import Cleaner

    pages = html_pages(corpora, count)
    origin = "trafilatura development set"
    if not pages:
        origin = "generated pages (no corpora found)"
        gen = NewsGenerator(seed=5)
        pages = []
        for n in range(count):
            a = gen.article(n)
            paras = "".join(f"<p>{p}</p>" for p in a["text"].split("\n\n"))
            nav = "".join(f"<li><a href='/s/{i}'>Section {i}</a></li>" for i in range(30))
            pages.append(
                (
                    a["url"],
                    f"<html><head><title>{a['title']}</title></head><body>"
                    f"<nav><ul>{nav}</ul></nav><article><h1>{a['title']}</h1>{paras}"
                    "</article><footer>(c) Example</footer></body></html>",
                )
            )
    settings = load_settings()
    mb = sum(len(h) for _, h in pages) / 1e6
    say(f"html: {len(pages)} pages, {origin}, {mb:.1f} MB")
    with Cleaner.from_settings(settings.clean, settings.config_dir) as cleaner:
        cleaner.html.extract("<p>warm up</p>", None)  # process start is not a page's cost
        proc = cleaner.html._proc
        assert proc is not None and proc.pid is not None
        for url, html in pages[:3]:
            trafilatura.extract(html, url=url)
        ours, bare, ours_cpu, bare_cpu = [], [], [], []
        for rnd in range(4):  # alternate, best of four: the machine is shared
            cpu, start = time.process_time(), time.perf_counter()
            for url, html in pages:
                trafilatura.extract(html, url=url)
            bare.append(time.perf_counter() - start)
            bare_cpu.append(time.process_time() - cpu)
            cpu, child, start = time.process_time(), proc_cpu(proc.pid), time.perf_counter()
            for n, (url, html) in enumerate(pages):
                cleaner.clean(RawItem(input_id=f"{rnd}-{n}", source=f"s{n}", html=html, url=url))
            ours.append(time.perf_counter() - start)
            ours_cpu.append(time.process_time() - cpu + proc_cpu(proc.pid) - child)
        restarts = cleaner.html.restarts
    n = len(pages)
    o, b = n / min(ours), n / min(bare)
    report.add(
        f"HTML pages through the clean stage ({n} pages, {origin})",
        f"{o:.1f} pages/s",
        f"{b:.1f} pages/s (trafilatura.extract)",
        f"{o / b:.2f}x",
        ">= 0.8x",
        "yes" if o / b >= 0.8 else "NO",
    )
    oc, bc = min(ours_cpu) / n * 1000, min(bare_cpu) / n * 1000
    report.add(
        "HTML, CPU per page (worker + extraction process; less noisy than wall time)",
        f"{oc:.1f} ms",
        f"{bc:.1f} ms",
        f"{bc / oc:.2f}x",
        ">= 0.8x",
        "yes" if bc / oc >= 0.8 else "NO",
    )
    if restarts:
        report.notes.append(f"HTML: the extraction process was restarted {restarts} times.")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- dedup, filters, feeds (the part scripts' own functions) ------------------------------------


def captured(fn: Callable[[], Any]) -> tuple[Any, str]:
    """Run fn with stdout captured; return its result and what it printed."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = fn()
    return result, buf.getvalue()


def bench_dedup(report: Report, sizes: list[int], probes: int) -> None:
    """Per-item dedup cost and worker memory at each index size (bench_dedup.bench_size)."""
    import bench_dedup

    from monitor.config import DedupSettings

    settings = DedupSettings()
    base, _ = captured(lambda: bench_dedup.bench_size(0, probes, settings))
    for n in sizes:
        say(f"dedup: filling {n:,} stories ...")
        _, out = captured(functools.partial(bench_dedup.bench_size, n, probes, settings, base))
        m = re.search(
            r"fill\s+([\d.]+)s \| per item\s+([\d.]+) ms CPU \(\s*([\d.]+) ms wall\)"
            r".*worker RSS\s+(\d+) MiB heap \+\s+(\d+) MiB mapped.*\(\+(\d+) B/story",
            out,
        )
        if not m:
            report.add(f"dedup, {n:,} stories", out.strip()[-200:])
            continue
        fill, cpu, wall, heap, mapped, per = m.groups()
        report.add(
            f"dedup identity+assign, {n:,} stories indexed",
            f"{cpu} ms CPU/item ({wall} ms wall); RSS {heap}+{mapped} MiB (+{per} B/story)",
            "",
            "",
            "",
            "",
        )
        report.notes.append(f"dedup {n:,}: bulk fill took {fill} s (not part of the figure).")


def bench_filters(report: Report, sizes: list[int], repeat: int) -> None:
    """Relevance filter time per article with synthetic gazetteers of each alias count."""
    import bench_filters

    from monitor.model import Article

    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    articles = [
        Article(item_id=p.stem, input_id=p.name, source="bench", title="", text=p.read_text())
        for p in seeds
    ]
    chars = statistics.mean(len(a.text) for a in articles)

    def run(relevance: Any) -> float:
        times = []
        for _ in range(repeat):
            for a in articles:
                t = time.perf_counter()
                relevance.evaluate(a)
                times.append(time.perf_counter() - t)
        return statistics.mean(times) * 1000

    # Bare: pyahocorasick (the automaton the gazetteer is built on) over the same aliases,
    # lower-cased, scanning the lower-cased text; no word boundaries, scopes or rules.
    import ahocorasick

    for size in sizes:
        t0 = time.perf_counter()
        before = rss_mib()
        relevance, total = bench_filters.build(size)
        built = time.perf_counter() - t0
        grown = rss_mib() - before
        ms = run(relevance)
        forms = [f for e in relevance.gazetteer.entities for f in e.forms]
        del relevance
        gc.collect()
        t0 = time.perf_counter()
        automaton: Any = ahocorasick.Automaton()
        for n, form in enumerate(forms):
            automaton.add_word(form.lower(), n)
        automaton.make_automaton()
        bare_built = time.perf_counter() - t0
        texts = [a.text.lower() for a in articles]
        times = []
        for _ in range(repeat):
            for text in texts:
                t = time.perf_counter()
                sum(1 for _ in automaton.iter(text))
                times.append(time.perf_counter() - t)
        bare_ms = statistics.mean(times) * 1000
        report.add(
            f"filters (all rules, entities, scopes), {total:,} aliases",
            f"{ms:.3f} ms/article ({chars:,.0f} chars); build {built:.2f} s, +{grown:.0f} MiB",
            f"{bare_ms:.3f} ms/article; build {bare_built:.2f} s (pyahocorasick scan only)",
            f"{bare_ms / ms:.2f}x",
        )
        del automaton
        gc.collect()


def bench_feeds(report: Report, feeds: int) -> None:
    """Polls/s and CPU per poll against a local server (bench_feeds.run_round)."""
    import urllib.request

    from _bench_server import start_server
    from bench_feeds import run_round

    from connectors.poller import FeedPoller
    from monitor.config import HttpSettings, SourceSettings

    proc, port = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sources = [
                SourceSettings(name=f"f{n}", url=f"http://127.0.0.1:{port}/feed/{n}")
                for n in range(feeds)
            ]
            settings = Settings(
                http=HttpSettings(
                    allow_private=["127.0.0.1"], per_host_delay_s=0,
                    per_host_concurrency=16, pool_size=16,
                ),
                sources=sources,
            )  # fmt: skip
            with FeedPoller(settings, Path(tmp) / "state.db") as poller:
                rounds = {}
                for label in ("cold", "steady", "idle"):
                    if label == "steady":
                        urllib.request.urlopen(
                            f"http://127.0.0.1:{port}/bump?pct=5&n={feeds}"
                        ).read()
                    _, out = captured(functools.partial(run_round, label, poller, feeds))
                    rounds[label] = out
            # Bare: the same URLs fetched by urllib3 and parsed by feedparser, in one thread.
            bare = bare_feeds(port, min(feeds, 500))
    finally:
        proc.terminate()
    for label, out in rounds.items():
        m = re.search(r"([\d.]+) polls/s\s+([\d.]+) ms CPU/poll\s+items\s+(\d+)", out)
        if not m:
            continue
        what = {"cold": "first poll, every feed new", "steady": "5% of feeds changed",
                "idle": "nothing changed (304s)"}[label]  # fmt: skip
        report.add(
            f"feed polling, {feeds} feeds, {what}",
            f"{m.group(1)} polls/s, {m.group(2)} ms CPU/poll ({m.group(3)} items)",
            bare if label == "cold" else "",
        )


def bare_feeds(port: int, feeds: int) -> str:
    """Fetch and parse the same feeds with bare urllib3 + feedparser, sequentially."""
    import feedparser
    import urllib3

    pool = urllib3.PoolManager()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for n in range(feeds):
        body = pool.request("GET", f"http://127.0.0.1:{port}/feed/{n}").data
        feedparser.parse(body)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return (
        f"{feeds / wall:.1f} polls/s, {cpu / feeds * 1000:.2f} ms CPU/poll "
        "(urllib3 + feedparser, 1 thread, no state)"
    )


# --- memory --------------------------------------------------------------------------------------


def rss_parts_mib() -> tuple[float, float, float]:
    """Resident memory now, MiB: total, anonymous (the heap) and file-backed (mapped SQLite)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0)


def slope_per_k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (items, MiB) points, in MiB per 1,000 items."""
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(n for n, _ in points)
    my = statistics.fmean(v for _, v in points)
    var = sum((n - mx) ** 2 for n, _ in points)
    return sum((n - mx) * (v - my) for n, v in points) / var * 1000 if var else 0.0


def cache_fill(worker: Any) -> str:
    """How full the worker's bounded caches are (private attributes, read defensively)."""
    from monitor.dedup import features

    parts = []
    for name in ("term_id", "_stem", "_word_term", "_fold_name"):
        fn = getattr(features, name, None)
        if fn is not None and hasattr(fn, "cache_info"):
            info = fn.cache_info()
            parts.append(f"dedup {name} LRU {info.currsize:,}/{info.maxsize:,}")
    templates = getattr(worker.stages.cleaner, "templates", None)
    sources = getattr(templates, "_sources", None)
    if isinstance(sources, dict) and templates is not None:
        lines = sum(len(getattr(v, "counts", ())) for v in sources.values())
        cap = f"{templates.max_lines:,} per source x {len(sources)} sources"
        if total := getattr(templates, "max_total", None):
            cap += f", {total:,} in all"
        parts.append(f"clean template lines {lines:,} (cap {cap})")
    return "; ".join(parts)


def term_cache_filling() -> str | None:
    """`term_id`'s LRU fill when it is not full yet (the RSS slope is then the cache filling)."""
    from monitor.dedup import features

    info = features.term_id.cache_info()
    if info.maxsize is None or info.currsize >= info.maxsize:
        return None
    return f"term_id LRU {info.currsize:,}/{info.maxsize:,}"


def bench_memory(
    report: Report, bootstrap: str, tmp: Path, count: int, window_items: int | None = None
) -> None:
    """RSS of the worker at checkpoints while `count` items with advancing times go through,
    `window_items` of them (default a third) in one dedup window."""
    gen = NewsGenerator(seed=23)
    settings = bench_settings(bootstrap, tmp / "memory" / "state.db")
    (tmp / "memory").mkdir()
    configure_logging(settings.logging, stream=DEVNULL)
    worker = build_worker(settings)
    worker.publisher.start()
    # Publish times advance so the 72 h window is full after a third of the run (or after
    # `window_items`) and then slides: RSS should stop growing from there on, once the
    # bounded caches are full.
    per_window = window_items or max(1, count // 3)
    step = timedelta(hours=settings.dedup.window_hours) / per_window
    span = step * count
    now = datetime.now(UTC)
    checkpoints = sorted({max(1, count * k // 20) for k in range(1, 21)})
    # (items, RSS, heap, mapped, state file MiB, seconds)
    points: list[tuple[int, float, float, float, float, float]] = []
    start = time.perf_counter()
    batch: list[RawItem] = []
    for total, n in enumerate(range(count), start=1):
        obj = gen.article(n)
        batch.append(
            RawItem(
                input_id=obj["id"], source=obj["source"], text=obj["text"], title=obj["title"],
                url=obj["url"], published=now - span + n * step,
            )
        )  # fmt: skip
        # Batches as the replay and the daemon run them (one group commit each).
        if len(batch) < BATCH_SIZE and total not in checkpoints:
            continue
        worker.pipeline.process_many(batch)
        batch = []
        if total in checkpoints:
            worker.publisher.flush(timeout=60)
            db = sum(p.stat().st_size for p in (tmp / "memory").glob("state.db*"))
            took = time.perf_counter() - start
            points.append((total, *rss_parts_mib(), db / 2**20, took))
            left = (count - total) / (total / took)
            say(
                f"memory: {total:,}/{count:,} items, RSS {points[-1][1]:.0f} MiB (heap "
                f"{points[-1][2]:.0f} + mapped {points[-1][3]:.0f}), state {points[-1][4]:.0f} "
                f"MiB, {total / took:,.0f} items/s, {left / 60:.0f} min to go"
            )
    caches = cache_fill(worker)
    filling = term_cache_filling()
    worker.publisher.close()
    worker.close()
    rate = count / points[-1][5]
    full = [p for p in points if p[0] >= per_window]
    growth = (full[-1][1] - full[0][1]) if len(full) > 1 else 0.0
    # Flat is judged on the last half: the window is full after a third, and bounded
    # caches (LRUs, the template learner, SQLite's page cache) fill on into the run.
    last = [p for p in points if p[0] >= count / 2]
    slope = slope_per_k([(p[0], p[1]) for p in last])
    heap_slope = slope_per_k([(p[0], p[2]) for p in last])
    end = points[-1]
    report.add(
        f"worker RSS after {count:,} items (window full after {per_window:,})",
        f"{end[1]:.0f} MiB (heap {end[2]:.0f} + mapped {end[3]:.0f}); last half "
        f"{slope:+.2f} MiB per 1,000 items (heap {heap_slope:+.2f}); {growth:+.0f} MiB "
        "since the window was full",
        "",
        "",
        "flat once full: last half <= +0.1 MiB per 1,000 items",
        # Under 0.1 MiB per 1,000 items, i.e. under 100 MiB over 1M items. A slope
        # while a bounded cache still fills is not yet a verdict: say so.
        "yes"
        if slope <= 0.1
        else f"NO ({filling} still filling: judge with --items 1000000)"
        if filling
        else "NO",
    )
    series = ", ".join(f"{p[0]:,}: {p[1]:.0f}" for p in points)
    report.notes.append(f"Worker RSS (MiB) at checkpoints (items: RSS): {series}.")
    report.notes.append(
        "State DB (MiB) at checkpoints: "
        + ", ".join(f"{p[0]:,}: {p[4]:.0f}" for p in points)
        + f"; {rate:,.0f} items/s over the run (1,000,000 items: ~{1e6 / rate / 3600:.1f} h)."
    )
    if caches:
        report.notes.append(f"Bounded caches at the end of the memory run: {caches}.")


def memory_in_child(
    report: Report, bootstrap: str, tmp: Path, count: int, window_items: int | None
) -> None:
    """Run the memory section in a fresh process: its RSS is the worker's, not the bench's."""
    import subprocess

    window = ["--window-items", str(window_items)] if window_items else []
    child = ["--memory-child", bootstrap, str(tmp)]
    done = subprocess.run(
        [sys.executable, __file__, "--items", str(count), *window, *child],
        stdout=subprocess.PIPE,
        check=True,
    )
    result = orjson.loads(done.stdout.splitlines()[-1])
    for row in result["rows"]:
        report.rows.append(Row(*row))
    report.notes.extend(result["notes"])


def memory_child(bootstrap: str, tmp: Path, count: int, window_items: int | None) -> int:
    """The memory section's own process: print its rows and notes as one JSON line."""
    report = Report()
    bench_memory(report, bootstrap, tmp, count, window_items)
    rows = [[r.what, r.project, r.bare, r.ratio, r.target, r.met] for r in report.rows]
    print(orjson.dumps({"rows": rows, "notes": report.notes}).decode())
    return 0


# --- main ----------------------------------------------------------------------------------------


def pin_split() -> tuple[set[int], set[int]] | None:
    """(CPUs for the broker, CPUs for the bench): the last CPU and the others; None if < 2."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[-1]}, set(cpus[:-1])


@contextlib.contextmanager
def broker_in(tmp: Path, split: tuple[set[int], set[int]] | None = None) -> Iterator[str]:
    """A local Kafka broker for the run; stopped on exit.

    With `split` (from `pin_split`), the broker runs on the last CPU (the JVM inherits the
    CPU set of the process that starts it) and this process and its children on the
    others, so the two do not take turns on one core: on 2 cores the ratios to the bare
    libraries otherwise move 15-20 points between runs with the broker's background work.
    """
    from monitor.devkafka import start_broker

    everything = os.sched_getaffinity(0) if split else set()
    t = time.perf_counter()
    if split:
        os.sched_setaffinity(0, split[0])
        try:
            broker = start_broker(tmp / "kafka")
        finally:
            os.sched_setaffinity(0, split[1])
        say(f"kafka: broker pinned to CPU {sorted(split[0])}, the bench to {sorted(split[1])}")
    else:
        broker = start_broker(tmp / "kafka")
    say(f"kafka: broker at {broker.bootstrap} ready in {time.perf_counter() - t:.1f} s")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        if split:
            os.sched_setaffinity(0, everything)


def main(argv: list[str] | None = None) -> int:
    """Run the sections and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, no 1M dedup index")
    ap.add_argument("--items", type=int, help="items through the worker for the memory row")
    ap.add_argument(
        "--window-items",
        type=int,
        help="items per dedup window in the memory run (default: a third of --items)",
    )
    ap.add_argument("--text-items", type=int, help="stories for the text replay row")
    ap.add_argument(
        "--on-topic-every",
        type=int,
        default=10,
        metavar="N",
        help="the second text replay has 1 story in N on topic, the rest filtered out (default 10)",
    )
    ap.add_argument("--pages", type=int, help="HTML pages")
    ap.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    ap.add_argument("--corpora", help="corpora folder (default: shared/corpora beside the repo)")
    ap.add_argument(
        "--no-pin",
        action="store_true",
        help="let the broker and the bench share every CPU (default: the broker gets the last"
        " CPU to itself, the bench the others)",
    )
    ap.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)  # BOOTSTRAP TMPDIR
    args = ap.parse_args(argv)
    if args.memory_child:
        return memory_child(
            args.memory_child[0], Path(args.memory_child[1]), args.items, args.window_items
        )
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if only - set(SECTIONS):
        ap.error(f"unknown sections: {', '.join(sorted(only - set(SECTIONS)))}")
    quick = args.quick
    text_items = args.text_items or (1_000 if quick else 3_000)
    pages = args.pages or (40 if quick else 150)
    # The worker runs ~120-140 items/s here in batches (bounded by dedup's story
    # assignment): the default takes ~3 min; --items 1000000 (the full target) ~2-2.5 h.
    items = args.items or (3_000 if quick else 20_000)
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    report = Report()
    began = time.perf_counter()
    header = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}"
    say(f"bench: {header}")
    tmp = Path(tempfile.mkdtemp(prefix="news-monitor-bench-"))
    try:
        # HTML first, in a young process: after the text replay the same pages measured
        # slower (0.66x instead of ~0.8x), the worker's heap being full of other work.
        if "html" in only:
            bench_html(report, corpora_dir(args.corpora), pages)
        with contextlib.ExitStack() as stack:
            bootstrap = ""
            if only & {"text", "publish", "memory"}:
                split = None if args.no_pin else pin_split()
                bootstrap = stack.enter_context(broker_in(tmp, split))
                if split:
                    report.notes.append(
                        f"The Kafka broker ran on CPU {sorted(split[0])} alone, the bench and its"
                        f" children on {sorted(split[1])} (`--no-pin` to share them)."
                    )
            if "text" in only:
                bench_text(report, bootstrap, tmp, text_items, args.on_topic_every)
            elif "publish" in only:  # text includes the publish rows
                bench_publish_only(report, bootstrap, tmp, args.text_items or 500)
            if "memory" in only:
                memory_in_child(report, bootstrap, tmp, items, args.window_items)
        if "dedup" in only:
            bench_dedup(report, sizes, 100 if quick else 200)
        if "filters" in only:
            bench_filters(report, [10, 1_000, 100_000], 3 if quick else 10)
        if "feeds" in only:
            bench_feeds(report, 500 if quick else 2_000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.perf_counter() - began
    print(
        f"news-monitor bench, {header} (end: load {os.getloadavg()[0]:.2f}); "
        f"{'--quick, ' if quick else ''}took {took / 60:.1f} min\n"
    )
    print(report.render())
    if report.notes:
        print()
        for note in report.notes:
            print(f"- {note}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"- Peak RSS of the bench process: {peak:.0f} MiB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
