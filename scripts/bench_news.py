"""Synthetic news for the benchmarks: distinct stories, on topic or not for the default rules."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

# --- synthetic news -------------------------------------------------------------------------

# On topic for the default rules (dprk-in-war): North Korea + a military word + Ukraine/Russia.
_LEADS = [
    "North Korean troops fighting for Russia were seen near {place}, {who} said on {day}.",
    "North Korea has sent more soldiers to Russia's war on Ukraine, {who} said on {day}.",
    "Ukrainian forces clashed with North Korean units near {place} on {day}, {who} said.",
    "North Korea shipped artillery shells and ammunition to Russia, {who} said on {day}.",
    "DPRK servicemen took part in combat in the Kursk region, {who} told reporters on {day}.",
]
_WHO = [
    "Ukraine's military intelligence",
    "a Ukrainian commander",
    "officials in Kyiv",
    "South Korea's spy agency",
    "a Pentagon spokesperson",
    "NATO's secretary general",
    "a senior Western diplomat",
    "the Ukrainian defence ministry",
    "analysts in Seoul",
]
_PLACES = [
    "Kursk",
    "Sudzha",
    "Pokrovsk",
    "Kupiansk",
    "Belgorod",
    "Bryansk",
    "Toretsk",
    "Kharkiv",
    "Zaporizhzhia",
    "Vovchansk",
    "Lyman",
    "Siversk",
    "Huliaipole",
    "Kramatorsk",
]
# Off topic for every default rule: markets, weather, sport, science (no alias of the gazetteer).
_OFF_LEADS = [
    "Shares in {who} rose sharply in {place} on {day} after a strong quarter, traders said.",
    "Heavy rain closed roads and schools across {place} on {day}, {who} said.",
    "{who} won the regional cup final in {place} on {day} after extra time.",
    "Researchers in {place} described a new species of beetle on {day}, {who} said.",
    "The city council of {place} approved a new budget for parks on {day}, {who} said.",
]
_OFF_WHO = [
    "the local weather office",
    "a spokesperson for the club",
    "the chamber of commerce",
    "the university's press office",
    "the mayor's office",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_OUTLETS = [f"outlet{n:02d}" for n in range(40)]


def _wordbank(rng: random.Random, n: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    out: set[str] = set()
    while len(out) < n:
        size = rng.randint(2, 4)
        out.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(size)))
    return sorted(out)


class NewsGenerator:
    """Distinct stories: a lead from the topic, then sentences of a private vocabulary.

    Each story draws its body words from its own slice of a 60k-word bank, so two
    stories share little beyond the topic words (story clustering keeps them apart),
    and no two lines repeat (the per-source template learner strips nothing).
    With `on_topic_every` N > 1 only every N-th story is on topic (the default rules
    pass it); the others are local news that no rule matches, as most of a general
    news feed is for a monitor that follows one story.
    """

    def __init__(self, seed: int = 11, on_topic_every: int = 1) -> None:
        self.rng = random.Random(seed)
        self.words = _wordbank(self.rng, 60_000)
        self.on_topic_every = on_topic_every

    def on_topic(self, n: int) -> bool:
        """Whether the n-th story is on topic."""
        return n % self.on_topic_every == 0

    def article(self, n: int) -> dict[str, Any]:
        """Return the n-th story as a replay `.jsonl` object (2-4 KB of text)."""
        rng = random.Random(n * 7919 + 1)
        start = (n * 211) % (len(self.words) - 400)
        private = self.words[start : start + 400]
        names = [w.capitalize() for w in rng.sample(private, 6)]
        on_topic = self.on_topic(n)
        if on_topic:
            place = rng.choice(_PLACES)
            lead = rng.choice(_LEADS).format(
                place=place, who=rng.choice(_WHO), day=rng.choice(_DAYS)
            )
        else:
            place = names[5]  # a town of the story's own vocabulary
            who = rng.choice([*_OFF_WHO, f"{names[2]} {names[3]}"])
            lead = rng.choice(_OFF_LEADS).format(place=place, who=who, day=rng.choice(_DAYS))
        paragraphs = [lead]
        target = rng.randint(2000, 3800)
        size = len(lead)
        while size < target:
            sentence = []
            for _ in range(rng.randint(3, 5)):
                words = rng.choices(private, k=rng.randint(8, 16))
                if rng.random() < 0.4:
                    words.insert(rng.randint(0, len(words)), rng.choice(names))
                if rng.random() < 0.2:
                    words.append(f"{rng.randint(2, 9_999):,}")
                sentence.append(" ".join(words).capitalize() + ".")
            para = " ".join(sentence)
            if rng.random() < 0.3:
                para += f" {names[0]} said the {'fighting' if on_topic else 'work'} near {place}"
                para += " continued."
            paragraphs.append(para)
            size += len(para) + 2
        topic = "North Korean troops" if on_topic else "council and traders"
        title = f"{names[0]} {names[1]}: {topic} near {place} ({n})"
        return {
            "id": f"bench-{n}",
            "source": rng.choice(_OUTLETS),
            "title": title,
            "text": "\n\n".join(paragraphs),
            "url": f"https://{rng.choice(_OUTLETS)}.example/world/{n}-{names[0].lower()}",
        }

    def write(self, folder: Path, count: int, start: datetime, step: timedelta) -> int:
        """Write `count` stories as `.jsonl` files of 1,000 lines (replay caps a file at
        20 MB), publish times from `start` by `step`; return the bytes written."""
        size = 0
        for first in range(0, count, 1000):
            with (folder / f"news-{first // 1000:04d}.jsonl").open("wb") as f:
                for n in range(first, min(count, first + 1000)):
                    obj = self.article(n)
                    obj["published"] = (start + n * step).isoformat()
                    line = orjson.dumps(obj) + b"\n"
                    size += len(line)
                    f.write(line)
        return size


def generated_pages(count: int, on_topic_every: int = 1) -> list[tuple[str, str]]:
    """(url, html) of `count` generated articles, each inside a page with a menu and footer."""
    gen = NewsGenerator(seed=5, on_topic_every=on_topic_every)
    pages = []
    for n in range(count):
        a = gen.article(n)
        paras = "".join(f"<p>{p}</p>" for p in a["text"].split("\n\n"))
        nav = "".join(f"<li><a href='/s/{i}'>Section {i}</a></li>" for i in range(30))
        pages.append(
            (
                a["url"],
                f"<html><head><title>{a['title']}</title></head><body>"
                f"<nav><ul>{nav}</ul></nav><article><h1>{a['title']}</h1>{paras}"
                "</article><footer>(c) Example</footer></body></html>",
            )
        )
    return pages
