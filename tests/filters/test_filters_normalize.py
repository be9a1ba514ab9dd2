"""Matching normalisation: folding, look-alikes, apostrophes, offsets back to the source."""

from monitor.filters.normalize import fold_for_match, fold_term


def test_casefold_diacritics_and_compatibility_forms() -> None:
    assert fold_term("ÉLYSÉE") == "elysee"
    assert fold_term("Straße") == "strasse"
    assert fold_term("Ｋｕｒｓｋ") == "kursk"  # fullwidth letters (NFKC)
    assert fold_term("Zelenskyy") == "zelenskyy"


def test_apostrophes_and_whitespace_are_unified() -> None:
    assert fold_term("Pyongyang’s") == "pyongyang's"
    assert fold_term("countryʼs") == "country's"
    assert fold_term("North \n\t Korea") == "north korea"


def test_cyrillic_lookalike_in_latin_word_is_folded() -> None:
    # Seed 000 writes "Kіshak" with a Cyrillic і (U+0456).
    assert fold_term("Nazar K\u0456shak") == "nazar kishak"
    assert fold_term("Z\u0435lensky") == "zelensky"  # Cyrillic е


def test_latin_lookalike_in_cyrillic_word_is_folded() -> None:
    # A Latin "i" typed into Ukrainian: "Сибiга" must read as "Сибіга".
    assert fold_term("Сибiга") == fold_term("Сибіга")


def test_pure_script_words_are_left_alone() -> None:
    assert fold_term("Курськ") == "курськ"
    assert fold_term("kypck") == "kypck"  # all Latin: no folding into Cyrillic


def test_offsets_map_back_to_the_original_text() -> None:
    original = "Near\n\n  Kursk’s border"
    norm = fold_for_match(original)
    assert norm.text == "near kursk's border"
    start = norm.text.index("kursk")
    a, b = norm.span(start, start + len("kursk"))
    assert original[a:b] == "Kursk"


def test_ascii_fast_path_has_identity_offsets() -> None:
    norm = fold_for_match("North Korea")
    assert norm.text == "north korea"
    assert norm.span(6, 11) == (6, 11)


def test_invisible_format_characters_are_dropped() -> None:
    original = "Zelen\u200bsky and \ufeffKursk\u00ad"
    norm = fold_for_match(original)
    assert norm.text == "zelensky and kursk"
    a, b = norm.span(0, len("zelensky"))
    assert original[a:b] == "Zelen\u200bsky"
