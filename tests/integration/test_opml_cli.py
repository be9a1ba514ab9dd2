"""`news-monitor sources import|export` through the real CLI."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.harness import cli

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="Ukraine">
      <outline text="Already here" type="rss" xmlUrl="https://kept.example/rss"/>
      <outline text="Front news" type="rss" xmlUrl="https://front.example/rss"/>
    </outline>
    <outline text="Korea" title="Korea" type="rss" version="ATOM"
             xmlUrl="https://korea.example/atom.xml"/>
  </body>
</opml>
"""

CONFIG = """# my monitor
state:
  path: state.db
sources:
  - name: kept    # the one feed I had
    url: https://kept.example/rss
"""


def test_import_prints_writes_a_copy_never_overwrites_and_export_round_trips(
    tmp_path: Path,
) -> None:
    (tmp_path / "feeds.opml").write_text(OPML, encoding="utf-8")
    (tmp_path / "monitor.yaml").write_text(CONFIG, encoding="utf-8")
    args = ("sources", "import", "feeds.opml", "--config", "monitor.yaml")

    printed = cli(*args, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout)["sources"] == [
        {"name": "Front news", "url": "https://front.example/rss", "kind": "auto"},
        {"name": "Korea", "url": "https://korea.example/atom.xml", "kind": "atom"},
    ]
    assert "https://kept.example/rss is already source 'kept'" in printed.stderr
    assert "3 feeds in feeds.opml: 2 new, 1 already in monitor.yaml" in printed.stderr

    wrote = cli(*args, "--output", "new.yaml", cwd=tmp_path)
    assert wrote.returncode == 0, wrote.stderr
    new = (tmp_path / "new.yaml").read_text(encoding="utf-8")
    assert new.startswith(CONFIG)  # the original text and its comments, then the new feeds
    assert cli("check-config", "new.yaml", cwd=tmp_path).returncode == 0

    again = cli(*args, "--output", "new.yaml", cwd=tmp_path)
    assert again.returncode == 2
    assert "new.yaml exists: not overwritten" in again.stderr
    assert (tmp_path / "new.yaml").read_text(encoding="utf-8") == new

    exported = cli("sources", "export", "--config", "new.yaml", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "out.opml").write_text(exported.stdout, encoding="utf-8")
    round_trip = cli("sources", "import", "out.opml", "--config", "new.yaml", cwd=tmp_path)
    assert round_trip.returncode == 0 and round_trip.stdout == ""
    assert "3 feeds in out.opml: 0 new, 3 already in new.yaml" in round_trip.stderr


def test_import_of_a_bad_file_says_why_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "feeds.opml").write_text("<opml><body><outline text='x'", encoding="utf-8")
    res = cli("sources", "import", "feeds.opml", "--output", "new.yaml", cwd=tmp_path)
    assert res.returncode == 2
    (line,) = res.stderr.splitlines()
    assert line.startswith("sources import: feeds.opml: not well-formed XML")
    assert not (tmp_path / "new.yaml").exists()
    missing = cli("sources", "import", "nope.opml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("sources import: nope.opml: cannot read: No such file")
