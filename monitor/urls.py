"""Canonical URLs: one key for one article however its link was decorated.

courlan strips the well-known trackers (utm_*, fbclid, gclid, ...) and sorts the
query; on top of it we drop the fragment, the scheme, `www.`/mobile/AMP host
prefixes, AMP path variants, extra tracking parameters from the config, and a
trailing slash, because none of them ever names a different article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from courlan import normalize_url

_HOST_PREFIX = re.compile(r"^(?:www\d?|m|mobile|amp)\.")
_AMP_PATH = re.compile(r"(?:/amp/?$|^/amp(?=/)|\.amp(?=\.html?$)|\.amp$)")
DEFAULT_TRACKING = (
    "ref",
    "ref_src",
    "ref_url",
    "cmpid",
    "ocid",
    "ito",
    "icid",
    "at_medium",
    "at_campaign",
    "spm",
    "amp",
    "outputtype",
    "_gl",
    "s_cid",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "share",
    "smid",
    "mod",
    "rss",
    "partner",
    "igshid",
    "mbid",
    "soc_src",
    "soc_trk",
)


def canonical_url(url: str, drop_params: Iterable[str] = DEFAULT_TRACKING) -> str | None:
    """Return the identity key of an article URL, or None when it is not a web URL."""
    params = drop_params if isinstance(drop_params, tuple) else tuple(drop_params)
    return _canonical(url, params)


@lru_cache(maxsize=1024)
def _drop_set(drop_params: tuple[str, ...]) -> frozenset[str]:
    return frozenset(p.lower() for p in drop_params)


@lru_cache(maxsize=1024)
def _canonical(url: str, drop_params: tuple[str, ...]) -> str | None:
    # Memoised: the clean stage (item id) and dedup (identity key) canonicalise
    # the same URL of an item one after the other; courlan is most of the cost.
    url = url.strip()
    if not url:
        return None
    try:
        normal = normalize_url(url, strict=False, trailing_slash=False)
        parts = urlsplit(normal)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = _HOST_PREFIX.sub("", parts.hostname.lower().rstrip("."))
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = _AMP_PATH.sub("", parts.path) or "/"
    path = path.rstrip("/") or "/"
    drop = _drop_set(drop_params)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in drop and not k.lower().startswith("utm_")
    ]
    qs = urlencode(sorted(query))
    # The scheme is left out on purpose: http and https copies are one article.
    return f"{host}{path}" + (f"?{qs}" if qs else "")
