"""Rule syntax, evaluation and the start-up errors bad rules give."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import yaml

from monitor.config import ConfigError, FilterRule, FilterSettings, load_settings
from monitor.filters import RelevanceFilter
from monitor.filters.rules import holds
from monitor.model import Article

GAZETTEER = {
    "entities": [
        {"id": "Q423", "name": "North Korea", "type": "country", "aliases": ["DPRK"]},
        {"id": "kursk", "name": "Kursk", "type": "place", "aliases": ["Kursk Oblast"]},
    ]
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "gaz.yaml").write_text(yaml.safe_dump(GAZETTEER), encoding="utf-8")
    return tmp_path


def make(config_dir: Path, *queries: str, enabled: bool = True) -> RelevanceFilter:
    rules = [FilterRule(name=f"r{i}", query=q) for i, q in enumerate(queries)]
    settings = FilterSettings(gazetteer=Path("gaz.yaml"), rules=tuple(rules), enabled=enabled)
    return RelevanceFilter.from_settings(settings, config_dir, "monitor.yaml")


def article(text: str, title: str = "") -> Article:
    return Article(item_id="i", input_id="i", source="t", title=title, text=text)


def matches(f: RelevanceFilter, text: str, title: str = "") -> bool:
    return f.evaluate(article(text, title)).relevant


def test_and_or_not(config_dir: Path) -> None:
    f = make(config_dir, "entity:north-korea AND (troops OR soldiers) AND NOT football")
    assert matches(f, "DPRK soldiers arrived")
    assert not matches(f, "DPRK football team")  # no troops or soldiers
    assert not matches(f, "DPRK soldiers play football")
    assert not matches(f, "soldiers arrived")


def test_quoted_phrase_respects_order_and_boundaries(config_dir: Path) -> None:
    f = make(config_dir, '"front line"')
    assert matches(f, "along the Front  Line near Kursk")
    assert not matches(f, "the line at the front")
    assert not matches(f, "frontline")


def test_prefix_wildcard(config_dir: Path) -> None:
    f = make(config_dir, "sanction*")
    assert matches(f, "new sanctions package")
    assert matches(f, "Sanctioned firms")
    assert not matches(f, "unsanctioned")


def test_bare_words_are_whole_words(config_dir: Path) -> None:
    f = make(config_dir, "war")
    assert matches(f, "the war in Europe")
    assert not matches(f, "Warsaw summit, software award")


def test_field_scopes(config_dir: Path) -> None:
    f = make(config_dir, "title:entity:kursk AND text:shelling")
    assert matches(f, "more shelling overnight", title="Kursk Oblast under fire")
    assert not matches(f, "Kursk: more shelling overnight", title="Overnight news")
    g = make(config_dir, 'title:("north korea" OR dprk)')
    assert matches(g, "", title="DPRK troops")
    assert not matches(g, "DPRK troops", title="Troops")


def test_entity_by_id_key_or_name(config_dir: Path) -> None:
    for query in ("entity:Q423", "entity:north-korea", 'entity:"North Korea"', "entity:q423"):
        assert matches(make(config_dir, query), "the DPRK said"), query


def test_entity_condition_uses_every_alias_but_keywords_do_not(config_dir: Path) -> None:
    assert matches(make(config_dir, "entity:kursk"), "fighting in Kursk Oblast")
    assert not matches(make(config_dir, '"north korea"'), "the DPRK said")


def test_reason_says_which_rule_matched_and_why(config_dir: Path) -> None:
    f = make(config_dir, "entity:north-korea AND troop*")
    r = f.evaluate(article("DPRK troops in Kursk"))
    assert r.rules == ("r0",)
    assert r.reason == (
        'rule \'r0\' matched: entity:north-korea ("DPRK" in text); troop* ("troops" in text)'
    )


def test_reason_says_what_was_missing(config_dir: Path) -> None:
    f = make(config_dir, "entity:north-korea AND (troop* OR soldier*) AND NOT football")
    r = f.evaluate(article("DPRK football team"))
    assert not r.relevant
    assert r.reason == (
        "no rule matched: rule 'r0' needs entity:north-korea AND (troop* OR soldier*) "
        "AND NOT football; missing (troop* OR soldier*); NOT football "
        '(found football ("football" in text))'
    )


def test_tags_and_topics_of_matching_rules(config_dir: Path) -> None:
    rules = (
        FilterRule(name="a", query="entity:kursk", tags=("place", "war"), topic="news.kursk"),
        FilterRule(name="b", query="entity:Q423", tags=("war", "dprk")),
        FilterRule(name="c", query="football"),
    )
    f = RelevanceFilter.from_settings(
        FilterSettings(gazetteer=Path("gaz.yaml"), rules=rules), config_dir, "monitor.yaml"
    )
    r = f.evaluate(article("DPRK units in Kursk"))
    assert r.rules == ("a", "b")
    assert r.tags == ("place", "war", "dprk")
    assert r.topics == ("news.kursk",)


def test_rule_references_reuse_an_earlier_rule(config_dir: Path) -> None:
    rules = (
        FilterRule(name="base", query="entity:north-korea AND troop* AND NOT football"),
        FilterRule(name="head", query="title:entity:kursk AND rule:base", tags=("headline",)),
    )
    f = RelevanceFilter.from_settings(
        FilterSettings(gazetteer=Path("gaz.yaml"), rules=rules), config_dir, "monitor.yaml"
    )
    r = f.evaluate(article("DPRK troops", title="Kursk"))
    assert r.rules == ("base", "head")
    assert r.reason.endswith(
        "rule 'head' matched: title:entity:kursk (\"Kursk\" in title); rule:base"
    )
    r = f.evaluate(article("DPRK troops and football", title="Kursk"))
    assert not r.relevant
    assert "rule 'head' needs title:entity:kursk AND rule:base; missing rule:base" in r.reason


def test_rule_reference_must_name_an_earlier_valid_rule(config_dir: Path) -> None:
    rules = (
        FilterRule(name="a", query="rule:b"),
        FilterRule(name="b", query="troops"),
        FilterRule(name="c", query="rule:nope OR rule:(b OR a)"),
        FilterRule(name="d", query="title:rule:b"),
    )
    with pytest.raises(ConfigError) as err:
        RelevanceFilter.from_settings(
            FilterSettings(gazetteer=Path("gaz.yaml"), rules=rules), config_dir, "m.yaml"
        )
    assert [p.reason for p in err.value.problems] == [
        "rule 'a': unknown rule 'b': rule: must name a valid rule defined above",
        "rule 'c': unknown rule 'nope': rule: must name a valid rule defined above",
        "rule 'c': rule:(b OR a) must name one rule",
        "rule 'd': rule:b cannot be scoped by title:, text: or entity:",
    ]


def test_no_rules_passes_everything_with_entities(config_dir: Path) -> None:
    r = make(config_dir).evaluate(article("Weather in Kursk"))
    assert r.relevant and r.rules == ()
    assert r.reason == "no rules configured: everything passes"
    assert [e.surface for e in r.entities] == ["Kursk"]


def test_disabled_passes_everything(config_dir: Path) -> None:
    r = make(config_dir, "entity:north-korea", enabled=False).evaluate(article("Kursk weather"))
    assert r.relevant and r.rules == ()
    assert "disabled" in r.reason
    assert [e.surface for e in r.entities] == ["Kursk"]


def test_bad_rules_report_every_problem_with_file_rule_and_reason(config_dir: Path) -> None:
    rules = (
        FilterRule(name="parens", query="entity:kursk AND (troops OR soldiers"),
        FilterRule(name="closing", query="troops)"),
        FilterRule(name="unknown", query="entity:Q999 AND entity:south-korea"),
        FilterRule(name="implicit", query="north korea"),
        FilterRule(name="fuzzy", query="troops~2"),
        FilterRule(name="infix", query="kim*jong"),
        FilterRule(name="field", query="body:troops"),
        FilterRule(name="empty", query="  "),
        FilterRule(name="parens", query="troops"),
    )
    settings = FilterSettings(gazetteer=Path("gaz.yaml"), rules=rules)
    with pytest.raises(ConfigError) as err:
        RelevanceFilter.from_settings(settings, config_dir, "config/monitor.yaml")
    got = [(p.file, p.key, p.reason) for p in err.value.problems]
    f = "config/monitor.yaml"
    assert got == [
        (
            f,
            "filters.rules.0.query",
            "rule 'parens': unbalanced parentheses: '(' at position 17 is never closed",
        ),
        (
            f,
            "filters.rules.1.query",
            "rule 'closing': unbalanced parentheses: ')' at position 6 has no matching '('",
        ),
        (
            f,
            "filters.rules.2.query",
            "rule 'unknown': unknown entity 'Q999': not an id, key or name in the gazetteer",
        ),
        (
            f,
            "filters.rules.2.query",
            "rule 'unknown': unknown entity 'south-korea': not an id, key or name in the gazetteer",
        ),
        (
            f,
            "filters.rules.3.query",
            "rule 'implicit': implicit operator in 'north korea': "
            "write AND or OR between terms (and quote phrases)",
        ),
        (
            f,
            "filters.rules.4.query",
            "rule 'fuzzy': Fuzzy 'troops~2' is not supported (use words, phrases, AND, OR, NOT)",
        ),
        (
            f,
            "filters.rules.5.query",
            "rule 'infix': wildcard in 'kim*jong': only a trailing * (word prefix) is supported",
        ),
        (
            f,
            "filters.rules.6.query",
            "rule 'field': unknown field 'body': use title:, text:, entity: or rule:",
        ),
        (f, "filters.rules.7.query", "rule 'empty': empty query"),
        (f, "filters.rules.8.name", "duplicate rule name 'parens' (first at filters.rules.0)"),
    ]


def test_bad_gazetteer_is_reported_with_the_rules_once(config_dir: Path) -> None:
    (config_dir / "gaz.yaml").write_text(
        "entities:\n  - {id: k, name: Kursk, type: place, aliases: ['']}\n", encoding="utf-8"
    )
    settings = FilterSettings(
        gazetteer=Path("gaz.yaml"),
        rules=(FilterRule(name="a", query="entity:k AND (x"),),
    )
    with pytest.raises(ConfigError) as err:
        RelevanceFilter.from_settings(settings, config_dir, "monitor.yaml")
    got = [(Path(p.file).name, p.key, p.reason) for p in err.value.problems]
    assert got == [
        ("gaz.yaml", "entities.0 (k).aliases/demonyms[0]", "empty alias"),
        (
            "monitor.yaml",
            "filters.rules.0.query",
            "rule 'a': unbalanced parentheses: '(' at position 13 is never closed",
        ),
    ]


def test_long_or_groups_are_abbreviated_in_reasons(config_dir: Path) -> None:
    f = make(config_dir, "entity:kursk AND (a OR b OR c OR d OR e OR f)")
    r = f.evaluate(article("Kursk"))
    assert r.reason == (
        "no rule matched: rule 'r0' needs entity:kursk AND (a OR b OR c OR d OR … +2 more); "
        "missing (a OR b OR c OR d OR … +2 more)"
    )


def test_filters_section_is_validated_by_load_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "filters:\n  rulez: []\n  rules:\n    - {name: a, query: x, topics: [t]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert sorted(p.key for p in err.value.problems) == ["filters.rules.0.topics", "filters.rulez"]


def test_settings_from_a_config_file_resolve_the_gazetteer(config_dir: Path) -> None:
    cfg = config_dir / "monitor.yaml"
    cfg.write_text(
        "filters:\n  gazetteer: gaz.yaml\n  rules:\n"
        "    - {name: k, query: 'entity:kursk', tags: [place], topic: news.kursk}\n",
        encoding="utf-8",
    )
    settings = load_settings(cfg)
    f = RelevanceFilter.from_settings(settings.filters, settings.config_dir, str(cfg))
    r = f.evaluate(article("Kursk Oblast"))
    assert (r.rules, r.tags, r.topics) == (("k",), ("place",), ("news.kursk",))


def test_or_groups_of_mixed_scopes_and_nested_groups(config_dir: Path) -> None:
    # An OR group's leaves are tested together per scope; nested groups and NOT beside them.
    f = make(
        config_dir,
        "title:(alpha OR beta) OR text:gamma OR (delta AND epsilon) OR NOT (zeta OR eta)",
    )
    filler = "zeta is here. "
    assert matches(f, filler, title="Alpha news")
    assert not matches(f, filler + "alpha in the text only")
    assert matches(f, filler + "gamma in the text")
    assert not matches(f, filler, title="Gamma in the title only")
    assert matches(f, filler + "delta and epsilon")
    assert not matches(f, filler + "delta alone")
    assert matches(f, "nothing of the group")  # NOT (zeta OR eta) holds
    assert not matches(f, "eta only")


def test_compiled_rule_trees_pickle_and_judge_alike(config_dir: Path) -> None:
    f = make(config_dir, "entity:Q423 AND (troop* OR army)", "rule:r0 AND NOT title:kursk")
    trees = [r.tree for r in f.rules]
    copies = pickle.loads(pickle.dumps(trees))
    assert copies == trees
    for text, title in (("DPRK troops", ""), ("DPRK troops", "Kursk"), ("army", "")):
        found = f._scan(article(text, title))[1]
        assert [holds(t, found) for t in copies] == [holds(t, found) for t in trees]


def test_a_pickled_filter_explains_as_the_original(config_dir: Path) -> None:
    f = make(config_dir, "entity:Q423 AND (troop* OR army)", "rule:r0 AND NOT title:kursk")
    copy = pickle.loads(pickle.dumps(f))
    for text, title in (("DPRK troops", ""), ("DPRK troops", "Kursk"), ("nothing here", "")):
        a = article(text, title)
        assert copy.evaluate(a) == f.evaluate(a)


def test_topic_forms_are_what_every_match_of_every_rule_requires(config_dir: Path) -> None:
    f = make(
        config_dir,
        "entity:north-korea AND (troops OR soldiers) AND deploy* AND NOT football",
        "title:entity:north-korea AND rule:r0",
        "entity:north-korea AND (entity:kursk OR deploy*)",
    )
    # North Korea is in every rule's AND; `deploy*` is not in the third rule's every
    # match (an OR's alternative), the OR groups and the NOT never are.
    assert f.topic_forms() == ("North Korea", "DPRK")
    assert make(config_dir, "deploy* AND (troops OR soldiers)").topic_forms() == ("deploy*",)
    # An OR whose alternatives all hold a word requires it.
    either = make(config_dir, "(troops AND deploy*) OR (troops AND sent)")
    assert either.topic_forms() == ("troops",)
    # An entity is required whatever the fields a rule looks in or how it names it.
    named = make(config_dir, "title:entity:Q423", "entity:north-korea AND troops")
    assert named.topic_forms() == ("North Korea", "DPRK")
    assert make(config_dir, "entity:kursk OR entity:north-korea").topic_forms() == ()
    assert make(config_dir, "entity:kursk", enabled=False).topic_forms() == ()
    assert make(config_dir).topic_forms() == ()
