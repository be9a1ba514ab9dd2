"""Add sources to a config file's text, keeping its comments and layout.

The new entries go at the end of the `sources:` list (or replace `sources: []`);
the result is parsed back and compared with what was meant, and when the text is
laid out in a way this cannot follow (a flow-style list), the whole config is
written out plainly instead (comments are then lost, and the caller says so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from textwrap import indent
from typing import Any

import yaml

_KEY = re.compile(r"^sources\s*:(?P<rest>.*)$")


def dump_entries(entries: Sequence[Mapping[str, Any]]) -> str:
    """Entries as a YAML block list (`- name: ...`), one key per line."""
    return yaml.safe_dump(
        [dict(e) for e in entries], sort_keys=False, allow_unicode=True, width=1_000
    )


def add_sources(text: str, entries: Sequence[Mapping[str, Any]]) -> tuple[str, bool]:
    """`text` with `entries` added to its sources; and whether comments were kept."""
    data = yaml.safe_load(text) or {}
    want = {**data, "sources": [*(data.get("sources") or []), *entries]}
    if not entries:
        return text, True
    edited = _insert(text, entries)
    if edited is not None and yaml.safe_load(edited) == want:
        return edited, True
    return yaml.safe_dump(want, sort_keys=False, allow_unicode=True, width=1_000), False


def _insert(text: str, entries: Sequence[Mapping[str, Any]]) -> str | None:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    found = [i for i, line in enumerate(lines) if _KEY.match(line.rstrip("\n"))]
    if not found:
        return "".join(lines) + "sources:\n" + indent(dump_entries(entries), "  ")
    if len(found) > 1:
        return None
    i = found[0]
    match = _KEY.match(lines[i].rstrip("\n"))
    rest = match.group("rest").split("#", 1)[0].strip() if match else ""
    if rest in ("[]", "null", "~"):
        lines[i] = "sources:\n" + indent(dump_entries(entries), "  ")
        return "".join(lines)
    if rest:
        return None
    # A block list: its items run until the next top-level key.
    last, dash = i, "  "
    for j in range(i + 1, len(lines)):
        line = lines[j]
        stripped = line.strip()
        if stripped and not line[0].isspace() and not stripped.startswith(("#", "-")):
            break
        if stripped and not stripped.startswith("#"):
            if last == i:
                dash = line[: len(line) - len(line.lstrip())]
            last = j
    lines.insert(last + 1, indent(dump_entries(entries), dash) if dash else dump_entries(entries))
    return "".join(lines)
