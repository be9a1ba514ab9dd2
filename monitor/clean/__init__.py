"""Boilerplate stripping: `Cleaner.clean(RawItem) -> Article | Rejected`.

HTML goes through trafilatura (in a time-limited child process, with a
fallback); plain-text dumps through line rules whose phrase lists are data in
`config/boilerplate.yaml`; both then lose lines learned as their source's
template, and are normalised (NFC, quotes, glued words).
"""

from monitor.clean.cleaner import (
    Cleaner,
    RejectedArticle,
    html_options,
    item_id_for,
)
from monitor.clean.html import Extracted, HtmlOptions, extract_html
from monitor.clean.inspection import inspection_json, render_inspection
from monitor.clean.normalize import GlueRepair, normalize_text
from monitor.clean.phrases import Phrases, line_key, load_phrases
from monitor.clean.process import ExtractionError, HtmlExtractor
from monitor.clean.templates import TemplateStore
from monitor.clean.text import LineRules, Stripped, strip_lines

__all__ = [
    "Cleaner",
    "Extracted",
    "ExtractionError",
    "GlueRepair",
    "HtmlExtractor",
    "HtmlOptions",
    "LineRules",
    "Phrases",
    "RejectedArticle",
    "Stripped",
    "TemplateStore",
    "extract_html",
    "html_options",
    "inspection_json",
    "item_id_for",
    "line_key",
    "load_phrases",
    "normalize_text",
    "render_inspection",
    "strip_lines",
]
