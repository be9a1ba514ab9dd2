"""Layer 3, pure: an article as the story model sees it.

Terms come from `features.extract` (word stems, names, numbers, quote 3-grams).
Each is weighed by TF-IDF with document frequencies learned from the stream; a
prior from English word frequencies (wordfreq) stands in while the stream is
young, so the first articles are not compared on "the" and "said". The article
keeps all its terms as a unit vector (a story's profile keeps its heaviest), its
title stems, its names with their rarity, and its numbers other than years.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import add, gt, mul, truediv

from wordfreq import get_frequency_dict, word_frequency

from monitor.dedup.features import STEM_LEN, YEARS, Features, stem, term_id, words

PROFILE_TERMS = 64
"""Terms kept per story profile (`index.merged`). An article's vector keeps all its
terms: its cosine to a profile then counts the weight of the terms that profile does
not share."""
PRIOR_DOCS = 50.0
"""Weight of the word-frequency prior, in documents: after a few hundred items the
stream's own frequencies decide."""
DOC_WORDS = 400
"""Words of a typical article, to turn a word's frequency into a document frequency."""
TOPIC_PRIOR = 0.5
"""The share of a filtered stream expected to hold a word the relevance rules select
items by (`PriorDocs`): the rules require them (one form or another) in every item."""
KIND_WEIGHT = {"w": 1.0, "d": 1.0, "e": 1.0, "n": 1.0, "q": 0.5}
YEAR_IDS = frozenset(term_id(f"n:{y}") for y in YEARS)
"""Years are numbers of a kind every report of a period shares: never a matching figure."""
NAME, NUMBER = 1, 2
"""Kind codes carried in the two low bits of a term id (see `features.KINDS`)."""


@dataclass(frozen=True, slots=True)
class Vector:
    """One article for layer 3."""

    terms: dict[int, float]
    """Every term id -> weight, a unit vector, highest weight first."""
    title: frozenset[int]
    """Title stem ids."""
    names: dict[int, float]
    """Every name term id of the article -> its IDF."""
    numbers: frozenset[int]
    """Number term ids, years left out."""
    length: int
    """Body length in words."""
    labels: Mapping[int, str]
    """Term id -> readable term, for explanations."""


@lru_cache(maxsize=1)
def _english() -> dict[str, float]:
    return get_frequency_dict("en")


def _frequency(word: str) -> float:
    """`wordfreq.word_frequency(word, "en")`, as one dict look-up for a plain lower-case
    ASCII word (what most terms are; the same value, tested over the whole word list)."""
    if not (word.isascii() and word.isalpha() and word.islower()):
        return float(word_frequency(word, "en"))
    freq = _english().get(word)
    if freq is None:
        return 0.0
    # wordfreq rounds to 3 significant digits.
    return round(freq, math.floor(-math.log(freq, 10)) + 3)


@lru_cache(maxsize=1)
def _words() -> list[str]:
    return sorted(_english())


def stem_frequency(stem: str) -> float:
    """The summed English frequency of the words whose `w:` stem is `stem`.

    A `w:` term stands for all of them ("interna": internal, international, ...),
    so its prior is theirs together, whichever the stream shows first. A stem shorter
    than `STEM_LEN` is a whole word (with its "'s" and "n't" forms); a full-length
    stem is the start of every word it cuts."""
    english, words = _english(), _words()
    if len(stem) < STEM_LEN:
        # A word of one or two letters has no term of its own, only its "'s" forms.
        total, prefix = (english.get(stem, 0.0) if len(stem) > 2 else 0.0), stem + "'"
    else:
        total, prefix = 0.0, stem
    for i in range(bisect_left(words, prefix), len(words)):
        if not words[i].startswith(prefix):
            break
        total += english[words[i]]
    return total


@lru_cache(maxsize=1 << 17)
def prior(term: str) -> float:
    """The share of English documents expected to hold `term` (0 for numbers, quotes)."""
    kind = term[0]
    if kind == "w":
        freq = stem_frequency(term[2:])
    elif kind in "de":
        freq = _frequency(term[2:])
    else:
        return 0.0
    return 1.0 - math.exp(-freq * DOC_WORDS) if freq > 0 else 0.0


@lru_cache(maxsize=1 << 17)
def _prior_docs(term: str) -> float:
    return PRIOR_DOCS * prior(term)


class PriorDocs(dict[str, float]):
    """Term -> its prior in documents (`PRIOR_DOCS` x `prior`), for a stream selected by
    relevance rules: the rules' words count as held by `TOPIC_PRIOR` of the items at least.

    Every item the story layer sees passed the rules, so their words ("troops",
    "North Korea") are common in the stream by construction, however rare in English:
    weighed by the English prior, the first items of a fresh state would be compared on
    the topic itself. The stream's own counts take over as it grows, as for any term.
    `topic`: the rules' keywords and entity forms (`RelevanceFilter.topic_forms`), a
    trailing `*` for a word prefix; each word of a form stands for its `w:` and `e:`
    terms. Filled on first sight of a term (a look-up in C after that), cleared when full.
    """

    MAX = 1 << 17

    def __init__(self, topic: Iterable[str] = ()) -> None:
        super().__init__()
        exact: set[str] = set()
        prefixes: set[str] = set()
        for form in topic:
            is_prefix = form.endswith("*")
            toks = [t for t in words(form.removesuffix("*")) if t[0].isalpha() and len(t) > 2]
            for i, tok in enumerate(toks):
                (prefixes if is_prefix and i == len(toks) - 1 else exact).add(stem(tok))
        self.exact = frozenset(exact)
        self.prefixes = tuple(sorted(prefixes))
        self.floor = PRIOR_DOCS * TOPIC_PRIOR

    def is_topic(self, term: str) -> bool:
        """Whether a term is a word or name the rules select on."""
        if term[:2] not in ("w:", "e:"):
            return False
        word = term[2:]
        return word in self.exact or word.startswith(self.prefixes)

    def __missing__(self, term: str) -> float:
        if len(self) >= self.MAX:
            self.clear()
        docs = _prior_docs(term)
        if (self.exact or self.prefixes) and self.is_topic(term):
            docs = max(docs, self.floor)
        self[term] = docs
        return docs


def _tf(count: int) -> float:
    return 1.0 + math.log(count)


_TF = (math.nan, *map(_tf, range(1, 1024)))
"""`_tf` of the counts a text has (an index into a tuple is cheaper than a call)."""


def idf(df: int, n_docs: int, term: str) -> float:
    """Inverse document frequency: the stream's counts plus `PRIOR_DOCS` of prior."""
    return max(math.log((n_docs + PRIOR_DOCS) / (df + PRIOR_DOCS * prior(term) + 0.5)), 0.0)


def weigh(
    features: Features,
    df: Mapping[int, int] | Sequence[int],
    n_docs: int,
    ids: Iterable[int] | None = None,
    prior_docs: Callable[[str], float] = _prior_docs,
) -> Vector:
    """Turn an article's features into its layer-3 vector (pure).

    `df`: document frequencies by term id, or one for each of `features.terms` in
    order (`DedupStore.doc_counts`). `ids`: the term ids of `features.terms`, in
    order, when the caller has them. `prior_docs`: a term's prior in documents (the
    English prior; `PriorDocs.__getitem__` for a stream selected by relevance rules).
    """
    # Term by term in C (map over the lists), the same arithmetic as
    # (1 + log count) * log(base / (df + PRIOR_DOCS * prior + 0.5)) * kind weight.
    keys = list(features.terms)
    tids = list(map(term_id, keys) if ids is None else ids)
    if len(tids) != len(keys):
        raise ValueError("ids must match features.terms one to one")
    dfs = map(df.get, tids, repeat(0)) if isinstance(df, Mapping) else df
    if not isinstance(df, Mapping) and len(df) != len(keys):
        raise ValueError("document frequencies must match features.terms one to one")
    base = n_docs + PRIOR_DOCS
    denoms = map(add, map(add, dfs, map(prior_docs, keys)), repeat(0.5))
    invs = list(map(math.log, map(truediv, repeat(base), denoms)))
    counts = features.terms.values()
    # The table covers the counts a text has; any other count (0 among them) goes to
    # `_tf`, which raises for a count below 1 as before.
    table = counts and min(counts) > 0 and max(counts) < len(_TF)
    tfs = map(_TF.__getitem__ if table else _tf, counts)
    weights = list(map(mul, tfs, invs))
    # A term is kept when its IDF is above 0, i.e. when its weight is: no list is
    # filtered. The few terms that are not words (names, numbers, quotes) come after
    # the words in `terms` (`Features.words`): only those are looked at one by one.
    names: dict[int, float] = {}
    numbers: set[int] = set()
    start = features.words if features.words is not None else 0
    for i in range(start, len(keys)):
        kind = keys[i][0]
        if kind == "w" or invs[i] <= 0.0:
            continue
        if kind == "e":
            names[tids[i]] = invs[i]
        elif kind == "n":
            numbers.add(tids[i])
        elif kind == "q":
            weights[i] *= KIND_WEIGHT["q"]
    # Positions of the kept terms (weight above 0), heaviest first (a stable sort: ties
    # keep the terms' order). An article keeps all of them; a story profile its heaviest.
    kept = compress(range(len(weights)), map(gt, weights, repeat(0.0)))
    top = sorted(kept, key=weights.__getitem__, reverse=True)
    top_weights = list(map(weights.__getitem__, top))
    top_tids = list(map(tids.__getitem__, top))
    norm = math.sqrt(sum(map(mul, top_weights, top_weights))) or 1.0
    terms = dict(zip(top_tids, map(truediv, top_weights, repeat(norm)), strict=True))
    title = frozenset(term_id("w:" + s) for s in features.title)
    return Vector(
        terms=terms,
        title=title,
        names=names,
        numbers=frozenset(numbers) - YEAR_IDS,
        length=features.length,
        # Labels serve explanations of shared terms: the vector's own terms are enough.
        labels=dict(zip(top_tids, map(keys.__getitem__, top), strict=True)),
    )
