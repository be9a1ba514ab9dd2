"""The extraction child process: started as the console script starts it, its memory limit,
and the feed-content fallback when a page cannot be extracted."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.clean import Cleaner, ExtractionError, HtmlExtractor, HtmlOptions, load_phrases
from monitor.clean._extract_child import address_space_limit
from monitor.config import CleanSettings
from monitor.model import Article, Origin, RawItem
from tests.clean.conftest import CONFIG
from tests.clean.test_clean_html import PAGE, PARAS, _big_page

# What pip writes as bin/news-monitor for `news-monitor = "monitor.cli:main"`: its top
# level imports the whole CLI (Kafka, rensa, numpy...), and it is a file, not a module.
CONSOLE_SCRIPT = """\
import re
import sys
from monitor.cli import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""

SUMMARY = f"<p>{PARAS[0]}</p><p>{PARAS[1]}</p>"
MiB = 1024 * 1024


def test_pages_are_extracted_from_a_console_script(tmp_path: Path) -> None:
    """Before: every page was 'the extraction process did not start' from the script."""
    script = tmp_path / "news-monitor"
    script.write_text(CONSOLE_SCRIPT, encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script), "inspect", str(page)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "did not start" not in run.stdout + run.stderr
    assert run.returncode == 0, run.stderr
    assert "REJECTED" not in run.stdout
    assert PARAS[0] in run.stdout


def test_address_space_limit_adds_the_budget() -> None:
    assert address_space_limit(60 * MiB, 128, resource.RLIM_INFINITY) == 188 * MiB
    assert address_space_limit(60 * MiB, 128, 100 * MiB) == 100 * MiB


def test_page_over_the_memory_limit_fails_cleanly_and_the_next_one_works() -> None:
    with HtmlExtractor(HtmlOptions(favor_precision=True), 60, 16) as extractor:
        with pytest.raises(ExtractionError, match=r"^extraction ran out of memory \(limit 16 MB\)"):
            extractor.extract(_big_page(2_000_000), None)
        assert extractor.restarts == 1
        result = extractor.extract(PAGE, None)
        assert result is not None and PARAS[0] in result.text


@pytest.mark.parametrize("kind", ["html", "text"])
def test_failed_page_falls_back_to_the_feed_content(kind: str) -> None:
    settings = CleanSettings()
    extractor = HtmlExtractor(HtmlOptions(favor_precision=True), 60, 16)
    content = SUMMARY if kind == "html" else f"{PARAS[0]}\n{PARAS[1]}"
    meta = {"feed_content": content, "feed_content_type": kind, "page": {"status": 200}}
    raw = RawItem(
        input_id="e1",
        source="feed",
        html=_big_page(2_000_000),
        url="https://example.com/a",
        title="Troops near Kursk",
        meta=meta,
        origin=Origin.ENTRY,
    )
    phrases = load_phrases(CONFIG / settings.phrases)
    with Cleaner(phrases, settings, extractor) as cleaner, capture_logs() as logs:
        result = cleaner.clean(raw)
    assert isinstance(result, Article), result
    assert result.text == f"{PARAS[0]}\n{PARAS[1]}"
    (warning,) = result.meta["warnings"]
    assert warning.startswith("article page not used: extraction ran out of memory (limit 16 MB)")
    failures = [e for e in logs if e["event"] == "clean.page_failed"]
    assert len(failures) == 1 and failures[0]["log_level"] == "warning"
    assert warning.endswith(failures[0]["reason"])
