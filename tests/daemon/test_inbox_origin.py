"""An item waiting in the daemon's inbox keeps its origin across a restart."""

from __future__ import annotations

from monitor.inbox import dump_item, load_item
from monitor.model import Origin, RawItem


def test_an_entry_comes_back_from_the_inbox_as_an_entry() -> None:
    entry = RawItem("urn:1", "desk", title="Comet fragments found", origin=Origin.ENTRY)
    assert load_item(dump_item(entry)) == entry
    page = RawItem("p.html", "p.html", html="<html></html>")
    assert load_item(dump_item(page)).origin is Origin.DOCUMENT
