"""A local RSS feed with an ETag that records the conditional headers it gets."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORIES = [
    (
        "North Korean troops seen near Kursk, Umerov tells KBS",
        "&lt;p&gt;North Korean troops were seen near the front in Kursk, Ukrainian officials"
        " said on Tuesday. Defense Minister Rustem Umerov told KBS that 11,000 soldiers had"
        " arrived and that more were expected within weeks.&lt;/p&gt;",
    ),
    (
        "Seoul summons Russian ambassador over DPRK soldiers in the war",
        "South Korea summoned the Russian ambassador on Friday and demanded the immediate"
        " withdrawal of North Korean soldiers sent to fight against Ukraine, the foreign"
        " ministry in Seoul said, warning of arms deliveries to Kyiv.",
    ),
    (
        "Pyongyang ships artillery shells to Russia, intelligence says",
        "North Korea has shipped about 8,000 containers of artillery shells and rockets to"
        " Russia for its war against Ukraine since August, Ukrainian military intelligence"
        " said on Monday, citing satellite images of the port of Rajin.",
    ),
]


def feed_xml(n: int) -> bytes:
    items = "".join(
        f"<item><title>{title}</title>"
        f"<link>http://127.0.0.1/news/{i}</link><guid>guid-{i}</guid>"
        f"<description>{body}</description>"
        "<pubDate>Tue, 05 Nov 2024 10:00:00 GMT</pubDate></item>"
        for i, (title, body) in enumerate(STORIES[:n])
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Local test feed</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


class FeedServer(ThreadingHTTPServer):
    """Serves one RSS feed with an ETag and records the conditional headers it gets."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.body = feed_xml(3)
        self.requests: list[dict[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass
