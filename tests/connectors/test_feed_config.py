"""The `http`, `schedule` and `sources` config sections fail early with file, key, reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings


def test_sources_and_http_load(tmp_path: Path) -> None:
    cfg = tmp_path / "m.yaml"
    cfg.write_text(
        "http:\n  allow_private: ['127.0.0.1', '10.0.0.0/8', 'intranet.example']\n"
        "sources:\n  - {name: a, url: 'https://a.example/rss', interval_s: 600,"
        " fetch_pages: true}\n"
    )
    s = load_settings(cfg)
    assert s.sources[0].interval_s == 600 and s.sources[0].fetch_pages
    assert s.sources[0].kind == "auto"


@pytest.mark.parametrize(
    ("yaml", "key"),
    [
        ("http:\n  allow_private: ['10.0.0.0/33']\n", "http.allow_private"),
        ("sources:\n  - {name: a, url: 'ftp://x/'}\n", "sources.0.url"),
        ("sources:\n  - {name: a, url: 'http://x/', kind: xml}\n", "sources.0.kind"),
        ("sources:\n  - {name: a, url: 'http://x/', interval_s: 1}\n", "sources.0.interval_s"),
        ("sources:\n  - {name: a, url: 'http://x/'}\n  - {name: a, url: 'http://y/'}\n", "sources"),
        ("http:\n  max_bytes: 10\n", "http.max_bytes"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, yaml: str, key: str) -> None:
    cfg = tmp_path / "m.yaml"
    cfg.write_text(yaml)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert [p.key for p in err.value.problems] == [key]
    assert err.value.problems[0].file == str(cfg)
