"""The shipped config: every seed is relevant with its entities; near misses are filtered."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.filters import RelevanceFilter
from monitor.model import Article, Relevance

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "monitor.yaml"


@pytest.fixture(scope="module")
def relevance() -> RelevanceFilter:
    settings = load_settings(CONFIG)
    return RelevanceFilter.from_settings(settings.filters, settings.config_dir, str(CONFIG))


def judge(f: RelevanceFilter, text: str, title: str = "") -> Relevance:
    return f.evaluate(Article(item_id="i", input_id="i", source="test", title=title, text=text))


def seed(prefix: str) -> str:
    (path,) = (ROOT / "seeds").glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


# (entity name, surface) pairs each seed must carry: the spellings that seed uses.
SEED_ENTITIES = {
    "000": {
        ("North Korea", "North Korean"),
        ("North Korea", "Pyongyang"),
        ("Kharkiv", "Kharkiv"),
        ("Rustem Umerov", "Umierov"),
        ("Volodymyr Zelensky", "Zelensky"),
        ("Kursk", "Kursk region"),
    },
    "001": {
        ("Rustem Umerov", "Rustem Umerov"),
        ("Rustem Umerov", "Umerov"),
        ("KBS", "KBS"),
        ("Kursk", "Kursk Oblast"),
        ("Volodymyr Zelensky", "Volodymyr Zelensky"),
        ("Andriy Kovalenko", "Andrii Kovalenko"),
        ("North Korea", "DPRK"),
        ("North Korea", "Pyongyang"),  # written "Pyongyang’s"
    },
    "002": {
        ("Rustem Umerov", "Umerov"),
        ("KBS", "KBS"),
        ("Kursk", "Kursk"),
        ("Volodymyr Zelensky", "Zelensky"),
        ("Andriy Kovalenko", "Andriy Kovalenko"),
        ("NATO", "NATO"),
        ("North Korea", "North Korea"),
    },
    "003": {
        ("Mark Rutte", "Mark Rutte"),
        ("Mark Rutte", "Rutte"),
        ("NATO", "NATO"),
        ("Volodymyr Zelensky", "Zelenskyy"),
        ("Andrii Sybiha", "Sibiga"),
        ("North Korea", "DPRK"),
        ("Kursk", "Kursk"),
    },
    "004": {
        ("Andriy Kovalenko", "Andriy Kovalenko"),
        ("Andrii Sybiha", "Andriy Sybiha"),
        ("Kursk", "Kurshchyna"),
        ("Kursk", "Kursk region"),
        ("North Korea", "DPRK"),
        ("Kim Jong Un", "Kim Jong Un"),
        ("Vladimir Putin", "Vladimir Putin"),
    },
}


@pytest.mark.parametrize("prefix", sorted(SEED_ENTITIES))
def test_every_seed_is_relevant_with_its_entities(relevance: RelevanceFilter, prefix: str) -> None:
    r = judge(relevance, seed(prefix))
    assert r.relevant, r.reason
    assert "dprk-in-war" in r.rules
    assert r.reason.startswith("rule 'dprk-in-war' matched: entity:north-korea")
    found = {(e.name, e.surface) for e in r.entities}
    assert SEED_ENTITIES[prefix] <= found, SEED_ENTITIES[prefix] - found
    assert all(e.field == "text" for e in r.entities)


def test_seed_with_title_gets_the_headline_tag(relevance: RelevanceFilter) -> None:
    text = seed("001")
    r = judge(relevance, text, title=text.splitlines()[0])
    assert r.rules == ("dprk-in-war", "officials-on-dprk", "dprk-headline")
    assert r.tags == ("dprk", "war", "officials", "headline")
    assert ("North Korea", "North Korean", "title") in {
        (e.name, e.surface, e.field) for e in r.entities
    }


def test_seed_000_umierov_and_counts(relevance: RelevanceFilter) -> None:
    r = judge(relevance, seed("000"))
    by_surface = {(e.id, e.surface): e.count for e in r.entities}
    assert by_surface[("rustem-umerov", "Umierov")] == 1
    assert by_surface[("Q423", "North Korean")] == 7


# Near misses: realistic off-topic articles that share words or entities with the story.
FOOTBALL = """Ukraine edge Korea Republic in Seoul friendly
Ukraine beat Korea Republic 2-1 in an international friendly in Seoul on Tuesday night.
Son Heung-min put the hosts ahead before Ukraine's striker equalised and a late header won it.
The coach said the squad, which trains in Poland because of the war, fought for every ball.
Ukraine's football association thanked the South Korean fans for the warm welcome."""

DPR_FOOTBALL = """Korea DPR women beat Ukraine in Olympic qualifier
Korea DPR's women's football team beat Ukraine 3-0 in Pyongyang on Wednesday.
The midfielder scored twice as the visitors' defence crumbled in the second half battle.
Russia's team, excluded from qualifiers since 2022, was not in the group."""

WEATHER = """Frost and snow grip north-east Ukraine and Kursk
Temperatures fell to minus 15C in Kharkiv overnight and heavy snow closed roads in Kursk Oblast.
Forecasters in Kyiv expect the cold to last until the weekend, with winds from the north.
Residents were urged to check on elderly neighbours and avoid unnecessary travel."""

SUDAN = """RSF troops shell El Fasher as Sudan's war enters third year
Sudan's army said Rapid Support Forces troops shelled El Fasher overnight, killing 30 civilians.
Soldiers of the Sudanese Armed Forces repelled an attack on the city's last hospital.
The United Nations says the war has displaced 12 million people. Russian-made weapons and
drones have been reported on both sides, and Russia has sought a naval base on the Red Sea."""

MISSILE = """North Korea fires ballistic missile into the sea, Seoul says
North Korea fired a short-range ballistic missile off its east coast on Thursday, South Korea's
military said. Japan's coast guard warned ships. Kim Jong Un oversaw the launch, KCNA said,
calling it a test of a new solid-fuel engine. Seoul and Washington condemned the launch."""


@pytest.mark.parametrize(
    ("name", "text", "missing"),
    [
        ("football", FOOTBALL, "missing entity:north-korea"),
        ("dpr-football", DPR_FOOTBALL, "NOT (football OR soccer"),
        ("weather", WEATHER, "missing entity:north-korea"),
        ("sudan", SUDAN, "missing entity:north-korea"),
        ("missile", MISSILE, "(entity:ukraine OR entity:russia OR entity:kursk OR war)"),
    ],
)
def test_near_misses_are_filtered_with_a_reason(
    relevance: RelevanceFilter, name: str, text: str, missing: str
) -> None:
    r = judge(relevance, text, title=text.splitlines()[0])
    assert not r.relevant, f"{name}: {r.reason}"
    assert r.rules == () and r.tags == () and r.topics == ()
    assert r.reason.startswith("no rule matched: rule 'dprk-in-war' needs entity:north-korea AND")
    assert missing in r.reason


def test_korea_republic_is_not_north_korea(relevance: RelevanceFilter) -> None:
    r = judge(relevance, FOOTBALL)
    assert {e.name for e in r.entities} >= {"Ukraine", "South Korea"}
    assert "North Korea" not in {e.name for e in r.entities}


def test_ukrainian_language_report_is_relevant(relevance: RelevanceFilter) -> None:
    text = (
        "Умєров: українські військові вперше вступили в бій з солдатами КНДР у Курській області. "
        "За словами Зеленського, Північна Корея відправила 11 тисяч військових."
    )
    r = judge(relevance, text)
    # The default rules use English keywords; Cyrillic copy still matches the
    # entity-only rule, and the entities are all found.
    names = {(e.name, e.surface) for e in r.entities}
    assert {
        ("Rustem Umerov", "Умєров"),
        ("North Korea", "КНДР"),
        ("North Korea", "Північна Корея"),
        ("Kursk", "Курській"),
        ("Volodymyr Zelensky", "Зеленського"),
    } <= names
    assert r.relevant and r.rules == ("officials-on-dprk",), r.reason
