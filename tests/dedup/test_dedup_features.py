"""Feature extraction: names, numbers, quotes and shingles of an article."""

from __future__ import annotations

import random

from monitor.dedup.features import (
    _ASCII_WORD,
    _ASCII_WORD_SPLIT,
    _WORD,
    _WORD_SPLIT,
    extract,
    fold_for_key,
    shingles,
    text_key,
)

TEXT = (
    "Ukraine's Defense Minister Rustem Umerov said 11,000 troops were deployed. "
    "The minister told KBS that five units of 3,000 people each would follow, "
    "and that three thousand more were training. "
    "Umerov added: “We are identifying clashes with North Korean forces.” "
    "The defense ministry said 2024 was the year."
)


def test_names_numbers_and_quotes_are_typed_terms() -> None:
    terms = extract("Umerov confirms clashes", TEXT).terms
    assert terms["e:umerov"] == 3  # title + body
    assert terms["e:kbs"] == 1
    assert terms["n:11000"] == 1
    assert terms["n:3000"] == 2  # "3,000" and "three thousand"
    assert any(t.startswith("q:") for t in terms)


def test_sentence_openers_and_lowercase_words_are_not_names() -> None:
    terms = extract("Title Case Headline Words", TEXT).terms
    assert "e:the" not in terms  # also written "the"
    assert "e:defense" not in terms  # also written "defense"
    assert "e:title" not in terms  # only in the headline


def test_normalised_text_key_ignores_case_and_spacing() -> None:
    assert fold_for_key("  A  b\nC ") == "a b c"
    assert text_key("Hello  World") == text_key("hello world")
    assert text_key("hello world") != text_key("hello there")


def test_shingles() -> None:
    assert shingles("a b c d", 3) == {"a b c", "b c d"}
    assert shingles("a b", 3) == {"a b"}
    assert shingles("", 3) == set()


def test_ascii_texts_split_as_with_unicode_classes() -> None:
    # The ASCII pattern lists the characters the Unicode one matches by category: every
    # ASCII character alone, inside a word and inside a number, and random ASCII texts.
    chars = [chr(c) for c in range(128)]
    probes = [p for c in chars for p in (c, f"a{c}b", f"1{c}2", f"x 1{c} 2")]
    rng = random.Random(5)
    probes += ["".join(rng.choice(chars) for _ in range(300)) for _ in range(200)]
    for probe in probes:
        assert _ASCII_WORD_SPLIT.split(probe) == _WORD_SPLIT.split(probe), repr(probe)
        assert _ASCII_WORD.findall(probe) == _WORD.findall(probe), repr(probe)


def test_number_words_in_any_case_and_digits_alone() -> None:
    terms = extract("x", "About tHREE tHousand people and Fifteen more, 12 in all.").terms
    assert (terms["n:3000"], terms["n:15"], terms["n:12"]) == (1, 1, 1)
    digits_only = extract("x", "Some 1,200 people, and 40 more: 1240 in all.").terms
    assert [t for t in digits_only if t.startswith("n:")] == ["n:1200", "n:40", "n:1240"]
