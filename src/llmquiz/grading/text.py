"""Text helpers shared by the graders: tokens, sentences and clauses, question demoting.

Pure Python (plus rapidfuzz where noted); nothing here imports numpy or torch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

FUZZY_WORD = 85  # rapidfuzz ratio at which two words (5+ letters) count as the same word


def words_match(a: str, b: str) -> bool:
    """Same stem, or a typo-level difference for longer words."""
    if a == b:
        return True
    if len(a) >= 5 and len(b) >= 5 and a[:2] == b[:2]:
        return fuzz.ratio(a, b) >= FUZZY_WORD
    return False


def word_recall(target: Sequence[str], pool: Sequence[str]) -> float:
    """Share of `target` words (weighted by length, a cheap rarity proxy) found in `pool`."""
    if not target:
        return 0.0
    pool_set = set(pool)
    total = got = 0.0
    for word in target:
        weight = min(len(word), 8) / 8 + 0.5
        total += weight
        if word in pool_set or any(words_match(word, p) for p in pool_set):
            got += weight
    return got / total


def _words(text: str) -> list[str]:
    return text.split()


STOPWORDS = frozenset(
    _words(
        """
        a about above after again against all also am an and any are as at be because been before
        being below between both but by can could did do does doing down during each either else
        etc few for from further had has have having he her here hers herself him himself his how
        however i if in into is it its itself just let may me might more most must my myself nor
        of off on once only or other our ours ourselves out over own per same shall she should so
        some such than that the their theirs them themselves then there these they this those
        through thus to too under until up upon us very via was we were what when where whether
        which while who whom whose why will with within would you your yours yourself yourselves
        e.g eg i.e ie one ones thing things something way ways use used using uses get gets make
        makes made really basically actually like kind sort lot lots well
        """
    )
)

# Words that negate a claim (or say it is absent): one side negated and the other not, in
# clauses that say the same thing otherwise, is a reversal.
NEGATIONS = frozenset(
    _words(
        """
        not no never none nothing neither nor without cannot cant can't don't doesn't didn't
        isn't aren't wasn't weren't won't wouldn't shouldn't couldn't mustn't hasn't haven't
        hadn't rarely seldom hardly instead rather omit omits omitted omitting missing lack lacks
        lacking absent fail fails failed failing
        """
    )
)

# Opposite direction words. An answer span that says one where the key point says the other
# (and not the key point's word itself) reverses the claim. Compared on stems.
OPPOSITE_PAIRS = """
more less | most least | higher lower | high low | larger smaller |
large small | bigger smaller | big small | longer shorter | long short | faster slower |
fast slow | speeds slows | speed slow | increase decrease | increase reduce | increase drop |
grow shrink | add remove | maximize minimize | maximise minimise | max min | before after |
above below | always never | all none | random deterministic | sharpen flatten | sharp flat |
peaked flat | improve hurt | improve degrade | better worse | easy hard | easier harder |
cheap expensive | cheaper costlier | inside outside | true false | correct incorrect |
supervised unsupervised | encoder decoder | input output | first last | frozen unfrozen |
freeze unfreeze | frozen unfreeze | frozen unfreezes | frozen updated | frozen trained |
low-rank full-rank | dense sparse | close far |
close distant | similar different | same different | merge split | include exclude |
accept reject | allow block | enable disable | positive negative | start end | top bottom |
likely unlikely | probable improbable | confident uncertain | known unknown | static dynamic |
fixed adaptive | fixed adapts | local global | private public | online offline |
parallel sequential | stateless stateful | explicit implicit | overfit underfit |
overfitting underfitting | left right | upper lower | maximum minimum |
strong weak | stronger weaker | safe unsafe | relevant irrelevant | consistent inconsistent |
""".replace("\n", " ")
_OPPOSITES: dict[str, set[str]] = {}
for _pair in OPPOSITE_PAIRS.split("|"):
    _words = _pair.split()
    if len(_words) == 2:
        _a, _b = _words
        for _x, _y in ((_a, _b), (_b, _a)):
            _OPPOSITES.setdefault(_x, set()).add(_y)


_NO_IDEA = re.compile(
    r"^(?:sorry[, ]*)?(?:"
    r"i\s*(?:do\s*n[o']?t|dont|do not|really don't|have no|honestly don't)\s*(?:know|remember|recall|"
    r"idea|clue|understand)|idk|dunno|no\s*idea|no\s*clue|not\s*sure|pass|skip|n/?a|none|nothing|"
    r"\?+|-+|\.+|no|unknown|i\s*forgot|forgot|can'?t\s*remember|i\s*can'?t\s*remember|"
    r"i\s*(?:am|'m)\s*not\s*sure|i\s*give\s*up|no\s*answer|blank|tbd|todo|x+|"
    r"i\s*have\s*no\s*(?:idea|clue)(?:\s*at\s*all)?|don'?t\s*know"
    r")(?:\s*(?:sorry|at all|really|honestly|tbh|the answer|this one|lol))*[.!?]*$",
    re.IGNORECASE,
)

_TOKEN = re.compile(r"[a-z0-9]+(?:[-+#'][a-z0-9]+)*\+*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z0-9\"'(])|\s*[\n\r]+\s*|(?<=;)\s+")
_BULLET = re.compile(r"\s*(?:[-*•]+|\d+[.)])\s+")
_CLAUSE = re.compile(
    r"\s*[,;:]\s+|\s+(?:and|but|whereas|while|because|so that|although|though|which|since|"
    r"whereas|instead of|rather than|unlike|versus|vs\.?)\s+",
    re.IGNORECASE,
)
_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|fig|eq)\.", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFKC, straight quotes, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """Lowercase word tokens (keeps top-k, c++, don't)."""
    return tuple(_TOKEN.findall(normalize(text).lower()))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A very light suffix stripper, enough to match plurals and verb forms."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("y") and len(word) > 4:
        return word[:-1] + "i"
    for suffix, keep in (
        ("izations", 4), ("ization", 4), ("ations", 4), ("ation", 4), ("ements", 4),
        ("ement", 4), ("ities", 4), ("ity", 4), ("ness", 4), ("ings", 3), ("ing", 3),
        ("ied", 3), ("ies", 3), ("ers", 4), ("est", 3), ("er", 3), ("ed", 3), ("ly", 4), ("es", 3),
        ("s", 3), ("e", 3),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            base = word[: -len(suffix)]
            if suffix in ("ied", "ies"):
                base = base + "i"
            return base
    return word


@lru_cache(maxsize=4096)
def content_words(text: str) -> tuple[str, ...]:
    """Stemmed tokens without stopwords (negations kept), in order."""
    return tuple(stem(t) for t in tokens(text) if t not in STOPWORDS or t in NEGATIONS)


def is_no_idea(answer: str) -> bool:
    """An empty answer, or one that only says "I don't know" in some form."""
    text = normalize(answer).strip(" \t\"'")
    if not text:
        return True
    if not any(ch.isalnum() for ch in text):
        return True
    if len(text) > 80:
        return False
    return bool(_NO_IDEA.match(re.sub(r"[^\w'?/-]+", " ", text).strip()))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences (and bullet lines) of a text."""
    text = text or ""
    protected = _ABBREV.sub(lambda m: m.group(0).replace(".", "\x00"), text)
    out: list[tuple[int, int]] = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(protected), None]:
        end = m.start() if m is not None else len(text)
        start = pos
        bullet = _BULLET.match(text, start)
        if bullet and bullet.end() <= end:
            start = bullet.end()
        piece = text[start:end]
        if any(ch.isalnum() for ch in piece):
            lead = len(piece) - len(piece.lstrip())
            out.append((start + lead, start + len(piece.rstrip())))
        if m is not None:
            pos = m.end()
    return out


def clause_spans(text: str, start: int, end: int, min_words: int = 3) -> list[tuple[int, int]]:
    """Clauses of text[start:end], split at commas, semicolons and conjunctions.

    Pieces shorter than `min_words` words are glued to their neighbour.
    """
    pieces: list[list[int]] = []
    pos = start
    for m in [*_CLAUSE.finditer(text, start, end), None]:
        stop = m.start() if m is not None else end
        if text[pos:stop].strip():
            pieces.append([pos, stop])
        if m is not None:
            pos = m.end()
    merged: list[list[int]] = []
    for piece in pieces:
        if merged and len(text[merged[-1][0] : merged[-1][1]].split()) < min_words:
            merged[-1][1] = piece[1]
        else:
            merged.append(piece)
    if len(merged) > 1 and len(text[merged[-1][0] : merged[-1][1]].split()) < min_words:
        tail = merged.pop()
        merged[-1][1] = tail[1]
    return [(a, b) for a, b in merged]


def unit_spans(text: str, *, with_clauses: bool = True, max_units: int = 32) -> list[tuple[int, int]]:
    """Spans of the sentences of a text, and of their clauses where a sentence has several."""
    out: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        out.append((start, end))
        if with_clauses:
            parts = clause_spans(text, start, end)
            if len(parts) > 1:
                out.extend(parts)
    return list(dict.fromkeys(out))[:max_units]


def finest_spans(text: str) -> set[tuple[int, int]]:
    """The smallest units of a text: each sentence's clauses, or the sentence itself."""
    out: set[tuple[int, int]] = set()
    for start, end in sentence_spans(text):
        parts = clause_spans(text, start, end)
        out.update(parts if len(parts) > 1 else [(start, end)])
    return out


def sentences(text: str) -> list[str]:
    """The sentences (and bullet lines) of a text."""
    return [re.sub(r"\s+", " ", text[a:b]) for a, b in sentence_spans(text or "")]


def demote(text: str, question: str) -> str:
    """Drop the words of `text` that merely repeat the question's content words.

    Stopwords are dropped too; what is left is the content the text adds to the question.
    """
    qwords = set(content_words(question))
    kept = [t for t in tokens(text) if (t not in STOPWORDS or t in NEGATIONS) and stem(t) not in qwords]
    return " ".join(kept)


def demoted_words(text: str, question: str) -> tuple[str, ...]:
    qwords = set(content_words(question))
    return tuple(w for w in content_words(text) if w not in qwords)


@lru_cache(maxsize=1)
def _opposite_stems() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for word, others in _OPPOSITES.items():
        out.setdefault(stem(word), set()).update(stem(o) for o in others)
    return {k: frozenset(v) for k, v in out.items()}


def has_negation(text: str) -> bool:
    return any(t in NEGATIONS or t.endswith("n't") for t in tokens(text))


NEGATION_REUSE = 0.75


def reuse_share(point: str, span: str, question: str = "") -> float:
    """Share of the point's content words (beyond the question's) that the span repeats."""
    qwords = set(content_words(question))
    point_words = [w for w in content_words(point) if w not in qwords and w not in NEGATIONS]
    return word_recall(point_words, content_words(span)) if point_words else 0.0


def polarity_conflict(
    point: str,
    span: str,
    question: str = "",
    reuse: float = 0.5,
    negation_reuse: float = NEGATION_REUSE,
) -> bool:
    """Does `span` reuse the words of `point` but state it the other way round?

    The point's clause that the span repeats most is compared with the span. Only when the
    span repeats at least `reuse` of that clause's content words (beyond the question's) is
    it checked: using the opposite of one of the clause's direction words instead of the word
    itself ("flattens" for "sharpens") is a reversal; so is exactly one of them being negated,
    when the span repeats at least `negation_reuse` of the clause.
    """
    parts = [point[a:b] for a, b in clause_spans(point, 0, len(point))] or [point]
    if len(parts) > 1:
        point = max(parts, key=lambda part: reuse_share(part, span, question))
    qwords = set(content_words(question))
    point_words = [w for w in content_words(point) if w not in qwords and w not in NEGATIONS]
    span_words = [w for w in content_words(span) if w not in NEGATIONS]
    if not point_words:
        return False
    opposites = _opposite_stems()
    point_stems = {stem(t) for t in tokens(point)}
    span_stems = {stem(t) for t in tokens(span)}
    swapped = {
        word
        for word in point_stems - span_stems - qwords
        if opposites.get(word, frozenset()) & (span_stems - point_stems - qwords)
    }
    negated = has_negation(point) != has_negation(span)
    if not (swapped or negated):
        return False
    if sum(1 for w in point_words if w in span_words) < 2:
        return False  # too little reused to say it is the same claim
    # a swapped word counts as reused: "flattens" stands where "sharpens" was
    reused = word_recall(point_words, span_words + [w for w in point_words if w in swapped])
    if swapped:
        return reused >= reuse
    # negation is said in many ways ("not included" = "omitted"): only a span that restates
    # the clause (its words repeat the clause's and the clause's repeat its), with or without
    # a "not", is taken as its negation
    back = word_recall([w for w in span_words if w not in qwords], point_words)
    return reused >= negation_reuse and back >= negation_reuse


def is_keyword_salad(text: str) -> bool:
    """A list of terms with no words connecting them: "logits softmax random greedy".

    Five or more tokens, at most one in ten a function word, and no sentence punctuation
    inside. Short telegraphic answers ("by reference", "file scope") are not salad.
    """
    toks = tokens(text)
    if len(toks) < 5:
        return False
    function = sum(1 for t in toks if t in STOPWORDS or t in NEGATIONS)
    if function / len(toks) > 0.1:
        return False
    return not re.search(r"[.;:!?]\s+\S", normalize(text))
