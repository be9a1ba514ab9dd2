"""Normalisation: NFC, quotes, spaces, glued words."""

from __future__ import annotations

import unicodedata

from monitor.clean import GlueRepair, Phrases, normalize_text


def test_nfc_quotes_and_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "Київ")
    assert normalize_text(f"{decomposed}\u00a0— countryʼs ‘war’ “now”\u200b") == (
        "Київ — country's 'war' \"now\""
    )


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
