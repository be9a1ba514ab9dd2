"""`news-monitor sources import|export`: feed lists in and out as OPML.

`import FILE.opml` prints the `sources:` entries for the file's feeds that the
config lacks (same URL: left out; same name: suffixed), or with `--output NEW`
writes a copy of the config with them added; it never overwrites a file.
`export` prints the configured feeds as OPML 2.0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from textwrap import indent
from typing import Any

from pydantic import TypeAdapter, ValidationError

from connectors.opml import OpmlError, merge_feeds, parse_opml, render_opml
from monitor.config import DEFAULT_CONFIG, SourceSettings, load_settings
from monitor.config_edit import add_sources, dump_entries
from monitor.config_errors import ConfigError, ConfigProblem, parse_yaml_file

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _say(message: str) -> None:
    print(f"sources import: {message}", file=sys.stderr)


def _config_sources(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The config's text and its `sources:` list (problems raise `ConfigError`)."""
    data = parse_yaml_file(path)
    if data is not None and not isinstance(data, dict):
        raise ConfigError([ConfigProblem(file=str(path), key="-", reason="not a mapping")])
    sources = (data or {}).get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        reason = "must be a list of sources (name, url, ...)"
        raise ConfigError([ConfigProblem(file=str(path), key="sources", reason=reason)])
    return path.read_text(encoding="utf-8"), sources


def cmd_import(args: argparse.Namespace) -> int:
    """Print (or write into a copy of the config) the sources of an OPML file."""
    opml: Path = args.file
    config: Path = args.config or DEFAULT_CONFIG
    output: Path | None = args.output
    if output is not None and output.exists():
        _say(f"{output} exists: not overwritten (choose another --output, or remove it)")
        return EXIT_USAGE
    try:
        parsed = parse_opml(opml.read_bytes())
    except OSError as exc:
        _say(f"{opml}: cannot read: {exc.strerror or exc}")
        return EXIT_USAGE
    except OpmlError as exc:
        _say(f"{opml}: {exc}")
        return EXIT_USAGE
    text, existing = _config_sources(config)
    merge = merge_feeds(existing, parsed.feeds)
    try:
        TypeAdapter(list[SourceSettings]).validate_python(merge.added)
    except ValidationError as exc:  # e.g. a URL with spaces: say which, write nothing
        for err in exc.errors():
            entry = merge.added[int(err["loc"][0])]
            _say(
                f"{opml}: feed {entry['url']!r}: {'.'.join(map(str, err['loc'][1:]))}: {err['msg']}"
            )
        return EXIT_USAGE
    for line in (*parsed.skipped, *merge.present, *merge.renamed):
        _say(f"{opml}: {line}")
    _say(
        f"{len(parsed.feeds)} feeds in {opml}: {len(merge.added)} new,"
        f" {len(merge.present)} already in {config}, {len(parsed.skipped)} outlines not feeds"
    )
    if output is None:
        if merge.added:
            sys.stdout.write("sources:\n" + indent(dump_entries(merge.added), "  "))
    else:
        new_text, kept = add_sources(text, merge.added)
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("x", encoding="utf-8") as f:  # "x": never overwrite
            f.write(new_text)
        note = "" if kept else " (its comments were not kept: the sources list is flow-style)"
        _say(f"wrote {output}: {config} with {len(merge.added)} sources added{note}")
    return EXIT_FAIL if parsed.skipped else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Print the configured feeds as OPML 2.0."""
    settings = load_settings(args.config)
    sources = [s.model_dump(include={"name", "url", "kind"}) for s in settings.sources]
    sys.stdout.buffer.write(render_opml(sources, f"news-monitor sources ({settings.config_file})"))
    print(f"sources export: {len(sources)} feeds", file=sys.stderr)
    return EXIT_OK


def add_parser(sub: Any, with_config: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `sources import` and `sources export` to the CLI's subcommands."""
    sp = sub.add_parser(
        "sources",
        help="import feeds from an OPML file, or export the configured feeds as OPML",
        description="Exchange feed lists with feed readers and other monitors as OPML.",
    )
    ssub = sp.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    ip = ssub.add_parser(
        "import",
        help="the sources: entries for an OPML file's feeds",
        description="Read FILE.opml (nested folders too) and print the sources: entries for"
        " its feeds that the config lacks: a URL already configured is left out, a name"
        " already taken gets a -2 suffix. With --output, write a copy of the config with"
        " them added instead (an existing file is never overwritten). Outlines that are"
        " not feeds are listed on stderr (exit 1).",
    )
    ip.add_argument("file", type=Path, metavar="FILE.opml")
    with_config(ip)
    ip.add_argument(
        "--output", type=Path, metavar="NEW", help="write the config with the feeds added to NEW"
    )
    ip.set_defaults(func=cmd_import)
    ep = ssub.add_parser(
        "export",
        help="print the configured feeds as OPML 2.0",
        description="Print the feeds of the config (with the environment) as OPML 2.0.",
    )
    with_config(ep)
    ep.set_defaults(func=cmd_export)
