"""MinHash layer: copies score high, other texts low, signatures survive packing."""

from __future__ import annotations

from pathlib import Path

import monitor
from monitor.dedup.near import band_keys, band_layout, from_blob, jaccard, signature
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


# (threshold, num_perm) -> (bands, rows), as datasketch's MinHashLSH chose them (equal
# weights): the layout computed here must stay the same, or stored bands stop matching.
DATASKETCH_LAYOUTS = {
    (0.5, 64): (14, 4),
    (0.5, 128): (25, 5),
    (0.6, 64): (10, 6),
    (0.6, 128): (18, 7),
    (0.7, 64): (8, 8),
    (0.7, 128): (14, 9),
    (0.75, 64): (7, 9),
    (0.75, 128): (11, 11),
    (0.8, 64): (5, 11),
    (0.8, 128): (9, 13),
    (0.85, 64): (4, 15),
    (0.85, 128): (8, 16),
    (0.9, 64): (3, 21),
    (0.9, 128): (5, 25),
    (0.95, 64): (2, 32),
    (0.95, 128): (3, 42),
}


def test_band_layout_is_the_classic_lsh_optimum() -> None:
    for (threshold, num_perm), layout in DATASKETCH_LAYOUTS.items():
        assert band_layout(threshold, num_perm) == layout, (threshold, num_perm)


def test_the_default_signature_has_eight_bands_of_eight_rows() -> None:
    sig = signature(seed_articles()[1].text, 5, 64, 0.7)
    assert sig is not None and len(sig.values) == 64 and len(sig.bands) == 8
    assert sig.bands == band_keys(sig.values, 0.7)


def test_no_module_of_the_package_imports_datasketch() -> None:
    root = Path(monitor.__file__).parent
    for path in [*root.rglob("*.py"), *(root.parent / "connectors").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "import datasketch" not in text and "from datasketch" not in text, path
