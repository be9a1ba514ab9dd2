"""One transaction per delivered poll: a kill -9 mid-poll saves nothing of it (at-least-once).

A real child process polls a feed from the real local server and hands the entries to a
consumer that stops after three; the test kills it with SIGKILL and polls again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from connectors.poller import FeedPoller

from .conftest import REPO, FeedServer, make_settings, polls, reply
from .test_feed_poller import guids, rss, src

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from connectors.poller import FeedPoller
    from monitor.config import HttpSettings, Settings, SourceSettings

    url, db = sys.argv[1], Path(sys.argv[2])
    settings = Settings(
        http=HttpSettings(allow_private=["127.0.0.1"], per_host_delay_s=0.0),
        sources=[SourceSettings(name="k.xml", url=url)],
        state={"path": db},
        config_dir=db.parent,
    )
    poller = FeedPoller(settings, db)
    for outcome in poller.poll_once():
        for n, item in enumerate(poller.deliver(outcome), 1):
            print(item.guid, flush=True)  # taken: the consumer comes back for the next one
            if n == 3:
                time.sleep(600)  # killed here, mid-poll
    """
)


def test_kill_9_mid_poll_delivers_that_polls_entries_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/k.xml"] = reply(200, rss("g1", "g2", "g3", "g4", "g5"), ETag='"v1"')
    db = tmp_path / "state.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, feed_server.url("/k.xml"), str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        taken = [child.stdout.readline().strip() for _ in range(3)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert taken == ["urn:test:g1", "urn:test:g2", "urn:test:g3"]
    assert child.returncode == -signal.SIGKILL
    source = src(feed_server, "/k.xml")
    with FeedPoller(make_settings([source], tmp_path), db) as p:
        assert p.state("k.xml") is None  # nothing of the killed poll was saved, not its state
        out, _ = polls(p)
        # Every entry of the killed poll comes again, the two it had taken too.
        assert guids(out) == ["g1", "g2", "g3", "g4", "g5"]
        again, _ = polls(p)
    assert guids(again) == []  # and now, saved, they are not handed on a third time
    assert feed_server.seen("/k.xml")[-1].headers.get("if-none-match") == '"v1"'


def test_a_whole_poll_is_saved_at_once(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/w.xml"] = reply(200, rss("a", "b", "c"), ETag='"w"')
    with FeedPoller(make_settings([src(feed_server, "/w.xml")], tmp_path), tmp_path / "s.db") as p:
        (outcome,) = list(p.poll_once())
        it = p.deliver(outcome)
        assert [next(it), next(it), next(it)] and p.store.seen("w.xml", ["urn:test:a"]) == set()
        assert list(it) == []  # the consumer asks past the last item: the poll is saved
        assert p.store.seen("w.xml", ["urn:test:a", "urn:test:b", "urn:test:c"]) == {
            "urn:test:a", "urn:test:b", "urn:test:c"
        }  # fmt: skip
        state = p.state("w.xml")
        assert state is not None and state.etag == '"w"' and state.items_seen == 3
