"""A small news site for the installed command: an RSS feed, article pages, a real HTTP server.

Everything here is written for these tests. `NewsSite` is a stdlib ThreadingHTTPServer
on 127.0.0.1 (port 0) serving fixed bodies by path; anything else, robots.txt included,
is a 404 (for robots.txt that means "everything allowed").
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

PARAGRAPHS = {
    1: (
        "North Korean troops were seen near the front in the Kursk region, Ukrainian officials"
        " said on Tuesday, adding that more units were expected to arrive within weeks.",
        "Defense Minister Rustem Umerov told a broadcaster that eleven thousand soldiers had"
        " arrived and were being trained to use drones, artillery and infantry tactics.",
    ),
    2: (
        "The harbour authority in Busan opened a new ferry terminal on Monday, the first one"
        " built in the city for thirty years, after four years of construction work.",
        "The terminal will handle two million passengers a year, the authority said, and a"
        " new bus line will link it to the central railway station from next spring.",
    ),
}
SUMMARIES = {1: "Officials report troops near Kursk.", 2: "A new terminal opens."}
TITLES = {
    1: "North Korean troops reach the Kursk front",
    2: "Busan opens its first new ferry terminal in thirty years",
}
NAV = "Home | World | Business | Subscribe to our newsletter"
FOOTER = "Copyright 2026 Example Daily News. All rights reserved. Privacy policy."


def article_page(n: int) -> str:
    """An article page: navigation, the article in <article>, a footer."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[n])
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{TITLES[n]}</title>'
        f"</head><body><nav>{NAV}</nav><main><article><h1>{TITLES[n]}</h1>{body}</article>"
        f"</main><footer>{FOOTER}</footer></body></html>"
    )


def rss(items: list[str]) -> str:
    """An RSS 2.0 document around `items` (each an <item> element)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Example Daily News</title><link>http://127.0.0.1/</link>"
        f"<description>Test feed</description>{''.join(items)}</channel></rss>"
    )


def item(guid: str, title: str, link: str, description: str | None = None) -> str:
    """One RSS <item>; `title` and `description` are inserted as written (already XML)."""
    desc = f"<description>{description}</description>" if description is not None else ""
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>{desc}"
        "<pubDate>Tue, 05 Nov 2024 10:00:00 GMT</pubDate></item>"
    )


class NewsSite(ThreadingHTTPServer):
    """Serves `pages` (path -> (content type, body)); records every path requested."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[str, str]] = {}
        self.requested: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def __enter__(self) -> NewsSite:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: NewsSite

    def do_GET(self) -> None:
        self.server.requested.append(self.path)
        page = self.server.pages.get(self.path)
        if page is None:
            self.send_error(404)
            return
        content_type, text = page
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass
