"""Entity matching: word boundaries, possessives, demonyms, scripts, and gazetteer checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import ConfigError
from monitor.filters import Gazetteer, RelevanceFilter
from monitor.model import Article, EntityHit

ENTITIES: dict[str, Any] = {
    "entities": [
        {
            "id": "Q423",
            "name": "North Korea",
            "type": "country",
            "aliases": ["DPRK", "КНДР", "Північна Корея", "Пхеньян*"],
            "demonyms": ["North Korean"],
        },
        {
            "id": "kursk",
            "name": "Kursk",
            "type": "place",
            "aliases": ["Kursk Oblast", "Kurshchyna", "Курськ*"],
        },
        {
            "id": "Q3874799",
            "name": "Volodymyr Zelensky",
            "type": "person",
            "key": "zelensky",
            "aliases": ["Zelensky", "Zelenskyy", "Зеленськ*"],
        },
        {
            "id": "andrii-sybiha",
            "name": "Andrii Sybiha",
            "type": "person",
            "aliases": ["Sybiha", "Sibiga", "Сибіг*"],
        },
        {"id": "rustem-umerov", "name": "Rustem Umerov", "type": "person", "aliases": ["Умєров*"]},
    ]
}


def hits(text: str, title: str = "") -> list[EntityHit]:
    """Entities found in an article with this text."""
    f = RelevanceFilter(Gazetteer.from_entries(ENTITIES, "test.yaml"))
    article = Article(item_id="i", input_id="i", source="test", title=title, text=text)
    return list(f.find_entities(article))


def surfaces(text: str) -> list[tuple[str, str]]:
    return [(h.name, h.surface) for h in hits(text)]


def test_kursk_does_not_match_inside_another_word() -> None:
    text = "Trains leave Moscow from Kursky station; the Kurskaya line; Nekursk; kursks."
    assert surfaces(text) == []
    assert surfaces("Fighting in Kursk.") == [("Kursk", "Kursk")]
    assert surfaces("the Kursk-based brigade") == [("Kursk", "Kursk")]


def test_longest_alias_wins_and_counts_per_surface() -> None:
    found = hits("Kursk Oblast was shelled. Kursk Oblast again, and Kursk city.")
    assert [(h.surface, h.count) for h in found] == [("Kursk Oblast", 2), ("Kursk", 1)]


def test_possessives_match_the_name() -> None:
    assert surfaces("Zelensky's address and Zelenskyy’s plan") == [
        ("Volodymyr Zelensky", "Zelensky"),
        ("Volodymyr Zelensky", "Zelenskyy"),
    ]
    assert surfaces("the DPRKʼs army") == [("North Korea", "DPRK")]


def test_names_broken_across_lines_match_with_one_surface() -> None:
    found = hits("North\nKorea and North  Korea and North Korea")
    assert [(h.surface, h.count) for h in found] == [("North Korea", 3)]


def test_demonyms_and_their_plurals() -> None:
    assert surfaces("North Korean troops; 11,000 North Koreans") == [
        ("North Korea", "North Korean"),
        ("North Korea", "North Koreans"),
    ]


def test_cyrillic_spellings_and_inflections() -> None:
    text = "Зеленського повідомив Умєров: КНДР і Північна Корея; Курщина; у Курській області."
    found = surfaces(text)
    assert ("Volodymyr Zelensky", "Зеленського") in found
    assert ("Rustem Umerov", "Умєров") in found
    assert ("North Korea", "КНДР") in found
    assert ("North Korea", "Північна Корея") in found
    assert ("Kursk", "Курській") in found


def test_homoglyphs_match_and_surface_is_kept_as_written() -> None:
    # Cyrillic е in a Latin name; Latin i in a Cyrillic name.
    found = surfaces("Z\u0435lensky met Сибiга")
    assert found == [("Volodymyr Zelensky", "Z\u0435lensky"), ("Andrii Sybiha", "Сибiга")]


def test_transliteration_variant_seen_in_seed_003() -> None:
    assert surfaces("Minister Sibiga said") == [("Andrii Sybiha", "Sibiga")]


def test_an_alias_shared_by_two_entities_reports_both() -> None:
    data = {
        "entities": [
            {"id": "a", "name": "Andriy Kovalenko", "type": "person", "aliases": ["Kovalenko"]},
            {"id": "b", "name": "Oleh Kovalenko", "type": "person", "aliases": ["Kovalenko"]},
        ]
    }
    f = RelevanceFilter(Gazetteer.from_entries(data, "test.yaml"))
    article = Article(item_id="i", input_id="i", source="t", title="", text="Kovalenko said")
    assert [(h.id, h.surface) for h in f.find_entities(article)] == [
        ("a", "Kovalenko"),
        ("b", "Kovalenko"),
    ]


def test_hits_are_per_field() -> None:
    found = hits("Kursk again", title="Kursk")
    assert [(h.field, h.surface, h.count) for h in found] == [
        ("title", "Kursk", 1),
        ("text", "Kursk", 1),
    ]
    assert found[0].id == "kursk" and found[0].type == "place"


def test_gazetteer_reports_every_problem_at_once() -> None:
    bad = {
        "entities": [
            {"id": "x", "name": "X", "type": "t", "aliases": ["", "a*b", "ok"]},
            {"id": "x", "name": "Y", "type": "t", "aliases": ["  "]},
        ]
    }
    with pytest.raises(ConfigError) as err:
        Gazetteer.from_entries(bad, "gaz.yaml")
    reasons = [(p.file, p.key, p.reason) for p in err.value.problems]
    assert ("gaz.yaml", "entities.0 (x).aliases/demonyms[0]", "empty alias") in reasons
    assert any("only a trailing *" in r for _, _, r in reasons)
    assert any(k == "entities.1 (x)" and "already names entity x" in r for _, k, r in reasons)
    assert ("gaz.yaml", "entities.1 (x).aliases/demonyms[0]", "empty alias") in reasons


def test_keys_default_to_the_slugified_name_or_the_id() -> None:
    data = {
        "entities": [
            {"id": "Q423", "name": "North Korea", "type": "country"},
            {"id": "kbs-ua", "name": "КБС", "type": "media"},
        ]
    }
    g = Gazetteer.from_entries(data, "test.yaml")
    assert [e.key for e in g.entities] == ["north-korea", "kbs-ua"]
    assert g.find("North-Korea") == 0 and g.find("q423") == 0 and g.find("кбс") == 1


def test_gazetteer_schema_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "gaz.yaml"
    path.write_text("entities:\n  - id: q1\n    name: A\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Gazetteer.load(path)
    assert [(p.file, p.key) for p in err.value.problems] == [(str(path), "entities.0.type")]


def test_missing_gazetteer_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        Gazetteer.load(tmp_path / "nope.yaml")
    assert err.value.problems[0].reason == "file not found"
