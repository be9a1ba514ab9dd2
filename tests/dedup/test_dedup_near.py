"""MinHash layer: copies score high, other texts low, signatures survive packing."""

from __future__ import annotations

from monitor.dedup.near import from_blob, jaccard, signature
from tests.dedup.seedtext import seed_articles


def test_copy_with_small_edits_is_near_and_other_story_is_not() -> None:
    arts = seed_articles()
    text = arts[1].text
    edited = text.replace("Umerov", "Umyerov", 1) + "\nSubscribe to our newsletter."
    a = signature(text, 5, 64, 0.7)
    b = signature(edited, 5, 64, 0.7)
    c = signature(arts[2].text, 5, 64, 0.7)
    assert a is not None and b is not None and c is not None
    assert jaccard(a.values, b.values) >= 0.8
    assert set(a.bands) & set(b.bands)
    assert jaccard(a.values, c.values) < 0.2
    assert from_blob(a.to_blob()) == a.values


def test_too_short_text_has_no_signature() -> None:
    assert signature("one", 5, 64, 0.7) is None
