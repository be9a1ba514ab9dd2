"""Site names in titles: "Two hurt in fire - Ridgeview 9 News - Ridgeview" -> "Two hurt in fire".

Feed and page titles often carry the outlet's name (and its slogan or city) after a
separator. That is chrome: it is not what the article is about, and for dedup it makes
two stories of one outlet look alike and two copies of one story from different outlets
look different. A title segment is the site's name when it starts with a key of the site
the item came from: its registrable domain without the suffix (`ridgeview9news`), the
outlet an aggregator names, the feed's title or the page's site name. Pure functions;
the clean stage calls them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from courlan import extract_domain

SEPARATOR = re.compile(r"\s+(?:[-–—|·•»~]|::)\s+")
"""What sets a site's name apart in a title: a dash, bar or bullet with a space each side
(a colon or a hyphen inside a word never does: "Rutte: NATO...", "Kursk-based")."""
MIN_KEY = 3
"""A site key shorter than this (after folding) is too unspecific to look for."""
MIN_WORDS = 2
"""The words a title must keep: a site's name is never cut down to a word or nothing."""
RULE = "site name in title"
"""The rule name `inspect` and the removed list show for a cut site name."""


def _key(text: str) -> str:
    """Letters and digits only, case-folded: "Ridgeview 9 News" -> "ridgeview9news"."""
    return "".join(filter(str.isalnum, text.casefold()))


def site_label(url_or_host: str) -> str | None:
    """The site's registrable domain without its public suffix, from a URL or a host:
    `https://www.ridgeview9news.com/story` and `gazette.example.co.uk:80` -> `ridgeview9news`,
    `example`."""
    text = url_or_host.strip()
    if not text or any(c.isspace() for c in text):
        return None
    url = text if "://" in text else f"http://{text}"
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return _host_label(host) if host and "." in host else None


@lru_cache(maxsize=4096)
def _host_label(host: str) -> str | None:
    # Only a host under a public suffix: a file name ("003_b1ac.txt") is no site.
    domain = extract_domain(f"http://{host}/")
    if not domain:
        return None
    return domain.removeprefix("www.").split(".")[0] or None


def site_keys(urls: Iterable[str | None] = (), names: Iterable[str | None] = ()) -> tuple[str, ...]:
    """The folded names a title segment is compared with: the sites of `urls` (URLs or
    hosts) and the site `names` as written (a feed's title, a page's site name)."""
    keys: dict[str, None] = {}
    for url in urls:
        label = site_label(url) if url else None
        if label:
            keys[_key(label)] = None
    for name in names:
        if name:
            keys[_key(name)] = None
    return tuple(k for k in keys if len(k) >= MIN_KEY)


def _names_site(segment: str, keys: tuple[str, ...]) -> bool:
    """A segment names the site if it starts with a site key ("RIDGEVIEW9NEWS.com | Ohio
    news" with `ridgeview9news`) or is the start of one ("Reuters" of a feed titled
    "Reuters World News"): a site's name leads its segment."""
    seg = _key(segment)
    if len(seg) < MIN_KEY:
        return False
    return any(seg.startswith(key) or key.startswith(seg) for key in keys)


def strip_site_name(title: str, keys: tuple[str, ...]) -> tuple[str, str]:
    """Return the title without the site's name, and what was cut ("" if nothing).

    From the first segment after a separator that names the site to the end ("- Ridgeview
    9 News - Ridgeview, Ohio": what follows a site's name is its chrome too);
    or a first segment that is the site's name and nothing else ("Ukrinform | ...").
    A title is never cut below `MIN_WORDS` words.
    """
    if not keys:
        return title, ""
    seps = list(SEPARATOR.finditer(title))
    if not seps:
        return title, ""
    ends = [m.start() for m in seps[1:]] + [len(title)]
    for sep, end in zip(seps, ends, strict=True):
        if _names_site(title[sep.end() : end], keys):
            kept = title[: sep.start()]
            if len(kept.split()) >= MIN_WORDS:
                return kept, title[sep.start() :]
            break
    first, rest = title[: seps[0].start()], title[seps[0].end() :]
    if _key(first) in keys and len(rest.split()) >= MIN_WORDS:
        return rest, title[: seps[0].end()]
    return title, ""
