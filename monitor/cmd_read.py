"""`news-monitor consume` and `inspect`: read the topic, or show what cleaning does to one input."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import orjson

from connectors.replay import ReplayConnector
from monitor.clean import render_inspection
from monitor.config import Settings
from monitor.consumer import ConsumeError, read_stories, render_story
from monitor.exits import EXIT_FAIL, EXIT_OK
from monitor.model import PASS_ALL, Article, RawItem, Rejected, Relevance
from monitor.outputs import load
from monitor.wiring import build_stages


def cmd_consume(args: argparse.Namespace) -> int:
    """Print the stories on the topic, as text or JSON lines."""
    settings = load(args)
    if settings.logging.level != "DEBUG":
        # kafka-python logs every failed connection attempt; its failure is our one line.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    shown = 0
    try:
        for value in read_stories(settings, args):
            shown += _show(value, args)
            if args.max and shown >= args.max:
                break
    except ConsumeError as exc:
        print(f"consume: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"consume: {shown} messages", file=sys.stderr)
    return EXIT_OK


def _show(value: dict[str, Any], args: argparse.Namespace) -> int:
    """Print one message, for a person or as a JSON line; return 1."""
    if args.json:
        sys.stdout.write(orjson.dumps(value).decode() + "\n")
    else:
        sys.stdout.write(render_story(value) + "\n\n")
    sys.stdout.flush()
    return 1


def _inspect_items(target: str, settings: Settings) -> list[RawItem | Rejected]:
    """Read the item(s) to inspect from a file, or fetch a URL (politely, robots.txt too)."""
    if not target.startswith(("http://", "https://")):
        return list(
            ReplayConnector([Path(target)], max_bytes=settings.clean.max_input_bytes).items()
        )
    from urllib.parse import urlsplit

    from connectors.http import PoliteClient
    from connectors.pages import PageFetcher, RobotsCache

    client = PoliteClient(settings.http)
    try:
        robots = RobotsCache(client, settings.http.user_agent, settings.http.robots_cache_s)
        raw = RawItem(input_id=target, source=urlsplit(target).hostname or target, url=target)
        page = PageFetcher(client, robots).enrich(raw)
    finally:
        client.close()
    error = page.meta.get("page_error")
    if error or not page.html:
        return [Rejected(target, raw.source, f"could not fetch the page: {error}")]
    return [page]


def cmd_inspect(args: argparse.Namespace) -> int:
    """Show what cleaning keeps and removes (and why); exit 1 if an input is rejected."""
    settings = load(args)
    stages = build_stages(settings, no_filter=not args.relevance)
    rejected = 0
    try:
        for item in _inspect_items(args.target, settings):
            result = item if isinstance(item, Rejected) else stages.cleaner.clean(item)
            rejected += isinstance(result, Rejected)
            out = render_inspection(result, as_json=args.json)
            if args.relevance and isinstance(result, Article):
                match = stages.relevance.evaluate(result) if stages.relevance else PASS_ALL
                out = _with_relevance(out, match, as_json=args.json)
            sys.stdout.write(out + "\n")
    finally:
        stages.close()
    if rejected:
        print(f"inspect: {args.target}: {rejected} item(s) rejected", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _with_relevance(rendered: str, match: Relevance, as_json: bool) -> str:
    """Add the filters' verdict and reasons to an inspection."""
    if as_json:
        data = orjson.loads(rendered)
        data["relevance"] = {"relevant": match.relevant, **match.to_json()}
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    lines = [
        rendered,
        "",
        "--- relevance ---",
        f"{'relevant' if match.relevant else 'FILTERED'}: {match.reason}",
    ]
    if match.rules:
        lines.append(f"rules: {', '.join(match.rules)}")
    lines += [f"[{e.type}] {e.name}: {e.surface!r} in {e.field} x{e.count}" for e in match.entities]
    return "\n".join(lines)
