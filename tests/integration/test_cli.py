"""The real CLI, run as a subprocess, with the dry-run sinks (no Kafka needed)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson

from monitor.publish.message import load_schema
from tests.clitree import command_paths
from tests.integration.harness import ROOT, SEEDS, cli


def write_config(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"state:\n  path: {tmp_path / 'state.db'}\n{extra}", encoding="utf-8")
    return cfg


def test_every_command_has_help() -> None:
    paths = command_paths()
    assert {("run",), ("replay",), ("sources", "import")} <= set(paths)
    for path in paths:
        out = cli(*path, "--help")
        assert out.returncode == 0, out.stderr
        assert f"usage: news-monitor {' '.join(path)}" in out.stdout


def test_replay_to_jsonl_with_explain(tmp_path: Path) -> None:
    out_file, explain = tmp_path / "out.jsonl", tmp_path / "explain.jsonl"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "ok", "title": "A title here", "text": "Body text."}\n{oops\n')
    res = cli(
        "replay",
        str(SEEDS),
        str(bad),
        "--config",
        str(write_config(tmp_path)),
        "--sink",
        f"jsonl:{out_file}",
        "--explain",
        str(explain),
    )
    assert res.returncode == 1, res.stderr  # bad.jsonl's second line is rejected
    assert "rejected=1" in res.stderr
    decisions = [orjson.loads(line) for line in explain.read_bytes().splitlines()]
    assert [d["input_id"] for d in decisions][:5] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert {d["input_id"]: d["decision"] for d in decisions}["bad.jsonl:2"] == "rejected"
    assert all({"input_id", "item_id", "decision"} <= d.keys() for d in decisions)
    schema = load_schema()
    values = [orjson.loads(line) for line in out_file.read_bytes().splitlines()]
    for value in values:
        jsonschema.validate(value, schema)
    published = [d for d in decisions if d["decision"] == "published"]
    assert {v["story_id"] for v in values} == {d["story_id"] for d in published}


def test_replay_to_stdout_writes_json_lines_only(tmp_path: Path) -> None:
    res = cli(
        "replay",
        str(SEEDS / "003_b1ac101bd35f63a9.txt"),
        "--sink",
        "stdout",
        "--config",
        str(write_config(tmp_path)),
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) >= 1
    assert orjson.loads(lines[0])["schema"] == "news-monitor.story/1"


def test_check_config_reports_every_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "kafka:\n  partitions: 0\n  compression: snappy\nstate:\n  pathh: x\n", encoding="utf-8"
    )
    res = cli("check-config", str(cfg))
    assert res.returncode == 2
    assert f"{cfg}: kafka.partitions:" in res.stderr
    assert f"{cfg}: kafka.compression:" in res.stderr
    assert f"{cfg}: state.pathh:" in res.stderr
    assert "3 problem(s)" in res.stderr


def test_invalid_config_fails_at_start_with_file_key_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("kafka: [unclosed\n", encoding="utf-8")
    res = cli("replay", str(SEEDS), "--config", str(cfg), "--sink", "stdout")
    assert res.returncode == 2
    assert str(cfg) in res.stderr and "not valid YAML" in res.stderr


def test_default_rules_filter_off_topic_and_no_filter_passes_it(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_bytes(
        orjson.dumps(
            {
                "id": "weather",
                "title": "Heavy rain expected across the region this weekend",
                "text": "Forecasters expect heavy rain and strong winds on Saturday and Sunday."
                " Rivers in the north may burst their banks, and drivers are asked to avoid"
                " mountain roads until the storm has passed on Monday morning.",
            }
        )
        + b"\n"
    )
    cfg = tmp_path / "monitor.yaml"
    default = (ROOT / "config" / "monitor.yaml").read_text(encoding="utf-8")
    cfg.write_text(default.replace("path: state/monitor.db", f"path: {tmp_path / 's.db'}"), "utf-8")
    (tmp_path / "gazetteer.yaml").write_bytes((ROOT / "config" / "gazetteer.yaml").read_bytes())
    for flag, expected in (([], "filtered"), (["--no-filter"], "published")):
        explain = tmp_path / f"explain{len(flag)}.jsonl"
        res = cli(
            "replay",
            str(items),
            "--config",
            str(cfg),
            "--sink",
            "stdout",
            "--explain",
            str(explain),
            *flag,
        )
        assert res.returncode == 0, res.stderr
        (decision,) = [orjson.loads(line) for line in explain.read_bytes().splitlines()]
        assert decision["decision"] == expected
        assert decision["reason"]


def test_check_config_reports_bad_rules_with_file_and_rule(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "filters:\n  rules:\n    - name: broken\n      query: (troops AND korea\n"
        "    - name: ghost\n      query: entity:no-such-entity\n",
        encoding="utf-8",
    )
    res = cli("check-config", str(cfg))
    assert res.returncode == 2
    assert "broken" in res.stderr and "ghost" in res.stderr
    assert str(cfg) in res.stderr


def test_inspect_shows_text_and_removed_lines_with_rules() -> None:
    res = cli("inspect", str(SEEDS / "001_8bc150cff370669c.txt"), "--json")
    assert res.returncode == 0, res.stderr
    data = orjson.loads(res.stdout)
    assert "LEAVE A REPLY" not in data["text"]
    removed = {r["text"]: r["rule"] for r in data["removed"]}
    assert removed.get("LEAVE A REPLY")
    assert data["url"] is None  # JSON null, not the string "None"
    human = cli("inspect", str(SEEDS / "001_8bc150cff370669c.txt"))
    assert "LEAVE A REPLY" in human.stdout and "removed" in human.stdout


def test_inspect_relevance_says_why_an_item_matches_or_not(tmp_path: Path) -> None:
    res = cli("inspect", str(SEEDS / "001_8bc150cff370669c.txt"), "--json", "--relevance")
    assert res.returncode == 0, res.stderr
    rel = orjson.loads(res.stdout)["relevance"]
    assert rel["relevant"] and rel["rules"]
    assert "Umerov" in {e["surface"] for e in rel["entities"]}
    off = tmp_path / "budget.txt"
    off.write_text(
        "Council passes the school budget\n\n"
        + "The regional council approved the new budget for schools and roads after a long "
        "debate on Tuesday night, with most members voting in favour of the plan.\n" * 3,
        encoding="utf-8",
    )
    human = cli("inspect", str(off), "--relevance")
    assert human.returncode == 0, human.stderr
    assert "--- relevance ---" in human.stdout and "FILTERED" in human.stdout


def test_inspect_fetches_a_url_from_a_local_server(tmp_path: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    paragraphs = "".join(
        f"<p>Paragraph {i}: North Korean units were reported near the front line again,"
        f" officials in Kyiv said, adding that {i * 1000} soldiers had been counted.</p>"
        for i in range(1, 6)
    )
    (tmp_path / "article.html").write_text(
        "<html><head><title>Troops near Kursk</title></head><body>"
        "<nav>Home | World | Subscribe</nav>"
        f"<article><h1>Troops near Kursk</h1>{paragraphs}</article>"
        "<footer>LEAVE A REPLY</footer></body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = write_config(tmp_path, 'http:\n  allow_private: ["127.0.0.1"]\n')
    try:
        url = f"http://127.0.0.1:{server.server_port}/article.html"
        res = cli("inspect", url, "--json", "--config", str(cfg))
        refused = cli("inspect", url, "--json")  # private addresses are refused by default
    finally:
        server.shutdown()
        server.server_close()
    assert res.returncode == 0, res.stderr
    data = orjson.loads(res.stdout)
    assert "Paragraph 5" in data["text"] and "LEAVE A REPLY" not in data["text"]
    assert data["url"] == url
    assert refused.returncode == 1
    assert "could not fetch" in refused.stdout
    # The address is refused, not robots.txt: the error names the setting to change.
    assert "http.allow_private" in refused.stdout and "robots.txt" not in refused.stdout


def test_learned_templates_survive_a_restart(tmp_path: Path) -> None:
    """A source's template line learned in one run is stripped in the next run."""
    footer = "Subscribe to the Morning Dispatch for all the news from the eastern front"
    bodies = [
        "The river ferry between the two villages stopped running after the spring flood"
        " damaged its landing stage, and the council promised repairs before the harvest.",
        "A violin maker in the old quarter has restored a two-hundred-year-old instrument"
        " that was found in an attic, and will play it at the cathedral concert in May.",
        "Engineers finished testing the new tram line across the bridge on Tuesday, and"
        " the first passengers will ride it to the university campus from next month.",
        "The regional library opened a reading room for children with a puppet theatre,"
        " and volunteers will read stories aloud there every Saturday afternoon all year.",
    ]

    def items(path: Path, picked: range) -> Path:
        path.write_bytes(
            b"".join(
                orjson.dumps(
                    {
                        "id": f"d{n}",
                        "source": "dispatch",
                        "title": f"Report {n}",
                        "text": f"{bodies[n]}\n{footer}",
                    }
                )
                + b"\n"
                for n in picked
            )
        )
        return path

    def replay(state: str, path: Path) -> list[str]:
        db = f"{tmp_path / state}.db"
        res = cli("replay", str(path), "--state", db, "--sink", "stdout", "--no-filter")
        assert res.returncode == 0, res.stderr
        return [orjson.loads(line)["article"]["text"] for line in res.stdout.splitlines()]

    first = replay("kept", items(tmp_path / "first.jsonl", range(3)))
    assert len(first) == 3 and all(footer in text for text in first)
    last = items(tmp_path / "last.jsonl", range(3, 4))
    # The same state file: three earlier items taught the footer.
    (text,) = replay("kept", last)
    assert footer not in text and text.startswith("The regional library")
    # A fresh state file has not seen it (what the worker did before templates were saved).
    (text,) = replay("fresh", last)
    assert footer in text
