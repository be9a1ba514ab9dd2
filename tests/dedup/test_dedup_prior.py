"""The prior of a term in a rule-selected stream: the rules' own words count as common."""

from __future__ import annotations

from structlog.testing import capture_logs

from monitor.config import load_settings
from monitor.dedup.features import extract
from monitor.dedup.vectors import PRIOR_DOCS, TOPIC_PRIOR, PriorDocs, _prior_docs, weigh
from monitor.wiring import build_stages

TOPIC = ("North Korea", "DPRK", "Пхеньян*", "deploy*", "Democratic People's Republic of Korea")


def test_the_rules_words_and_prefixes_count_as_common() -> None:
    prior = PriorDocs(TOPIC)
    floor = PRIOR_DOCS * TOPIC_PRIOR
    for term in ("w:north", "e:north", "w:korea", "e:dprk", "w:deploye", "w:deploy", "e:пхеньяна"):
        assert prior[term] >= floor, term
    assert prior["w:people"] >= floor  # every word of a form: the stream holds them all
    # Not the rules' words, a prefix's longer stem only where the prefix is whole, and
    # never numbers or quotes: the English prior as before.
    for term in ("w:troops", "e:kursk", "w:deplore", "n:2024", "q:north korea said"):
        assert prior[term] == _prior_docs(term), term
    # Words of one or two letters have no term of their own.
    assert not PriorDocs(("of",)).exact


def test_without_rules_the_prior_is_the_english_one() -> None:
    prior = PriorDocs()
    for term in ("w:north", "e:korea", "w:the", "n:17"):
        assert prior[term] == _prior_docs(term)


def test_a_topic_word_weighs_less_in_a_young_stream() -> None:
    feats = extract("North Korean troops seen near Kursk", "Pyongyang sent troops to Kursk.")
    plain = weigh(feats, [0] * len(feats.terms), 0)
    topical = weigh(feats, [0] * len(feats.terms), 0, prior_docs=PriorDocs(TOPIC).__getitem__)
    labels = {v: k for k, v in topical.labels.items()}
    north, kursk = labels["w:north"], labels["w:kursk"]
    assert topical.terms[north] < plain.terms[north]
    assert topical.terms[north] < topical.terms[kursk]


def test_the_worker_gives_the_story_layer_its_rules_words_unless_filtering_is_off() -> None:
    settings = load_settings()  # the default config: every rule requires North Korea
    for no_filter, expected in ((False, True), (True, False)):
        with capture_logs() as logs:
            stages = build_stages(settings, no_filter=no_filter)
        said = [e for e in logs if e["event"] == "dedup.topic_words"]
        assert [e["count"] for e in said] == ([19] if expected else [])
        try:
            prior = stages.dedup._prior
            assert prior.is_topic("e:pyongya") is expected
            assert prior.is_topic("w:korean") is expected
            assert not prior.is_topic("w:troops")  # one alternative of an OR
        finally:
            stages.close()
