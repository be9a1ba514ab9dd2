"""The dedup store's rows: the keys and blobs production writes are the tested functions'."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from wordfreq import get_frequency_dict, word_frequency

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator, identity_keys
from monitor.dedup import vectors as vectors_module
from monitor.dedup.features import extract, fold_for_key, stem, text_key
from monitor.dedup.near import from_blob, signature
from monitor.model import Article
from monitor.urls import DEFAULT_TRACKING
from tests.dedup.seedtext import seed_articles


def test_the_text_identity_key_is_text_key_of_title_and_text() -> None:
    art = seed_articles()[1]
    keys = dict(identity_keys(art, DEFAULT_TRACKING))
    assert keys["text"] == text_key(art.title, art.text)
    # The same key as the whole article folded as one text, a line break between.
    assert text_key(art.title, art.text) == text_key(art.title + "\n" + art.text)
    assert text_key("Hello  World", "x") == text_key("hello world\nX")
    headline = Article(item_id="h", input_id="h", source="s", title="  Just  a Title ", text="")
    assert dict(identity_keys(headline, DEFAULT_TRACKING))["text"] == text_key("just a title")
    assert fold_for_key(" A\u00a0b ") == "a b"


def test_the_stored_signature_is_to_blob_of_the_signature(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    art = seed_articles()[1]
    dedup.assign(art)
    sig = signature(art.text, 5, 64, 0.7, extract(art.title, art.text).body)
    assert sig is not None
    db = dedup.store._db  # type: ignore[attr-defined]
    (blob,) = db.execute("SELECT sig FROM dedup_item WHERE item_id=?", (art.item_id,)).fetchone()
    assert blob == sig.to_blob() and from_blob(blob) == sig.values
    bands = {b for (b,) in db.execute("SELECT band FROM dedup_band")}
    assert bands == set(sig.bands)
    dedup.close()


def test_the_prior_reads_wordfreq_exactly() -> None:
    """The dict look-up for plain words gives word_frequency()'s own (rounded) value."""
    words = [w for w in get_frequency_dict("en") if w.isascii() and w.isalpha() and w.islower()]
    rng = random.Random(5)
    words = rng.sample(words, 20_000)
    words += [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(1, 9))) for _ in range(5000)
    ]
    words += ["don't", "Umerov", "2024", "naïve", "o'clock", "x-ray", "ümlaut", ""]
    for word in words:
        assert vectors_module._frequency(word) == word_frequency(word, "en"), word


def test_a_stems_prior_is_every_word_it_cuts_whichever_came_first() -> None:
    """A `w:` term's prior sums the frequencies of all the words with its stem, so it
    does not depend on which of them a process read first."""
    english = get_frequency_dict("en")
    by_stem: dict[str, float] = {}
    for word, freq in english.items():
        if word[:1].isalpha() and len(word) > 2:
            key = stem(word)
            by_stem[key] = by_stem.get(key, 0.0) + freq
    rng = random.Random(7)
    for key in [*rng.sample(sorted(by_stem), 5000), "interna", "don", "said", "pd"]:
        assert vectors_module.stem_frequency(key) == pytest.approx(by_stem[key], rel=1e-9), key
    assert vectors_module.stem_frequency("zzzzqqq") == 0.0
    # "interna" is internal, international, internationally, ...: more than any one.
    assert by_stem["interna"] > english["international"] + english["internal"]
    expected = 1.0 - math.exp(-by_stem["interna"] * vectors_module.DOC_WORDS)
    vectors_module.prior.cache_clear()
    extract("Internal report", "An internal report.")
    assert vectors_module.prior("w:interna") == pytest.approx(expected)
    vectors_module.prior.cache_clear()
    extract("International talks", "International talks went on.")
    assert vectors_module.prior("w:interna") == pytest.approx(expected)


def test_word_terms_are_the_stems_of_long_words() -> None:
    text = "Forces clashed near Kurakhove; the forces’ commander’s report said 3,000 or 2 men."
    terms = extract("", text).terms
    words = {t for t in terms if t.startswith("w:")}
    # Cut to 7 letters, case-folded, at the apostrophe; no numbers, no words under 3 letters.
    assert words == {
        "w:forces",
        "w:clashed",
        "w:near",
        "w:kurakho",
        "w:the",
        "w:command",
        "w:report",
        "w:said",
        "w:men",
    }
    assert terms["w:forces"] == 2
