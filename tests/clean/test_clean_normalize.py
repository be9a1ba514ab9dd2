"""Normalisation: NFC, quotes, spaces, glued words."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from monitor.clean import GlueRepair, Phrases, normalize_text
from monitor.clean.normalize import _CHANGED_RUNS, _INVISIBLE, _QUOTES, _SPACES


def test_nfc_quotes_and_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "Київ")
    assert normalize_text(f"{decomposed}\u00a0— countryʼs ‘war’ “now”\u200b") == (
        "Київ — country's 'war' \"now\""
    )


def _step_by_step(text: str) -> str:
    """normalize_text as first written: one pass per kind of change, no shortcuts."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_QUOTES)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CHANGED_RUNS.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


@pytest.mark.parametrize("seed", range(5))
def test_shortcuts_change_nothing(seed: int) -> None:
    # The fast path (one translate, ASCII and no-double-space shortcuts) must give
    # what the step-by-step passes give, on texts dense in every character it treats.
    rng = random.Random(seed)
    alphabet = (
        " \t\r\n`'\"ab.e\u0301\u00e9\u00a0\u1680\u2000\u2005\u200a\u200b\u200c\u200d"
        "\u2060\ufeff\u00ad\u2018\u2019\u201c\u201d\u02bc\u00b4\u3000\u202f\u205f\u2033"
    )
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert normalize_text(text) == _step_by_step(text), repr(text)
    for text in ("plain ascii", "two  spaces", "tab\there", "back`tick", "cr\r\nlf\rx", ""):
        assert normalize_text(text) == _step_by_step(text)


def test_glued_that_always_split(phrases: Phrases) -> None:
    assert phrases.repair_glue("Sources reportedthat troops saidthat x") == (
        "Sources reported that troops said that x"
    )


def test_glued_the_needs_the_head_as_a_word(phrases: Phrases) -> None:
    assert phrases.repair_glue("They crossed the river. They crossedthe bridge.") == (
        "They crossed the river. They crossed the bridge."
    )
    assert phrases.repair_glue("Soldiers movedthe guns.") == "Soldiers movedthe guns."


def test_real_words_untouched(phrases: Phrases) -> None:
    text = "They see the smoke and seethe; soldiers bathe and breathe; that is what"
    assert phrases.repair_glue(text) == text


def test_no_suffixes_no_change() -> None:
    assert GlueRepair([], [], [])("saidthat") == "saidthat"


def test_glue_candidate_finds_every_glued_word() -> None:
    # The quick pre-check must find a candidate wherever a split could happen:
    # it is the plain `[a-z]{3}(?:suffix)\b`, searched from the suffix.
    glue = GlueRepair(["that", "the", "and"], ["that"], [])
    assert glue._candidate is not None and glue._pattern is not None
    plain = re.compile(r"[a-z]{3}(?:that|the|and)\b")
    rng = random.Random(7)
    pieces = ["that", "the", "and", "th", "a", "b", "X", " ", ".", "é", "\n", "they"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        found = glue._candidate.search(text) is not None
        assert found == (plain.search(text) is not None), repr(text)
        if glue._pattern.search(text):
            assert found, repr(text)


def test_the_one_pass_search_changes_what_the_table_says() -> None:
    from monitor.clean.normalize import _ONE_PASS, _ONE_PASS_FOUND, _one_pass

    every = "".join(chr(code) for code in _ONE_PASS)
    text = f"Київ {every} a{every}b “quoted” it’s\u00a0here\n{every[::-1]}"
    assert _ONE_PASS_FOUND.sub(_one_pass, text) == text.translate(_ONE_PASS)
    assert normalize_text("“Київ’s”\u00a0\u200bday") == '"Київ\'s" day'
