"""Text helpers shared by the graders: tokens, sentences and clauses, question demoting.

Pure Python (plus rapidfuzz where noted); nothing here imports numpy or torch.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STOPWORDS = frozenset(
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
    """.split()
)

# Words that flip or weaken a claim; their presence on one side only is a polarity signal.
NEGATIONS = frozenset(
    "not no never none nothing neither nor without cannot cant can't don't doesn't didn't "
    "isn't aren't wasn't weren't won't wouldn't shouldn't couldn't mustn't hasn't haven't "
    "hadn't lack lacks fail fails unable".split()
)

# Pairs of opposite direction words: an answer that swaps one for the other reverses a claim.
OPPOSITES = (
    ("more", "less"),
    ("more", "fewer"),
    ("higher", "lower"),
    ("high", "low"),
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("increasing", "decreasing"),
    ("larger", "smaller"),
    ("large", "small"),
    ("bigger", "smaller"),
    ("faster", "slower"),
    ("fast", "slow"),
    ("before", "after"),
    ("above", "below"),
    ("maximize", "minimize"),
    ("maximizes", "minimizes"),
    ("add", "remove"),
    ("adds", "removes"),
    ("always", "never"),
    ("random", "deterministic"),
    ("sharper", "flatter"),
    ("sharpens", "flattens"),
    ("improves", "hurts"),
    ("improve", "hurt"),
    ("raise", "lower"),
    ("raises", "lowers"),
    ("longer", "shorter"),
    ("many", "few"),
    ("most", "least"),
    ("reduces", "increases"),
    ("reduce", "increase"),
    ("reduced", "increased"),
    ("easier", "harder"),
    ("cheaper", "costlier"),
    ("inside", "outside"),
    ("true", "false"),
    ("correct", "incorrect"),
    ("supervised", "unsupervised"),
    ("encoder", "decoder"),
    ("input", "output"),
    ("first", "last"),
)
OPPOSITE_OF: dict[str, frozenset[str]] = {}
for _a, _b in OPPOSITES:
    OPPOSITE_OF[_a] = OPPOSITE_OF.get(_a, frozenset()) | {_b}
    OPPOSITE_OF[_b] = OPPOSITE_OF.get(_b, frozenset()) | {_a}

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
_BULLET = re.compile(r"^\s*(?:[-*•]+|\d+[.)])\s+")
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
        ("ied", 3), ("ies", 3), ("ers", 4), ("er", 4), ("ed", 3), ("ly", 4), ("es", 3),
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


def sentences(text: str) -> list[str]:
    """Split a text into sentences (and bullet lines)."""
    text = (text or "").strip()
    if not text:
        return []
    protected = _ABBREV.sub(lambda m: m.group(0).replace(".", "\x00"), text)
    parts = []
    for raw in _SENTENCE_END.split(protected):
        part = _BULLET.sub("", raw.replace("\x00", ".")).strip()
        if part and any(ch.isalnum() for ch in part):
            parts.append(re.sub(r"\s+", " ", part))
    return parts


def clauses(sentence: str, min_words: int = 3) -> list[str]:
    """Split a sentence into clauses at commas, semicolons and conjunctions.

    Pieces shorter than `min_words` words are glued to their neighbour.
    """
    pieces = [p.strip() for p in _CLAUSE.split(sentence) if p and p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1].split()) < min_words:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[-1].split()) < min_words:
        tail = merged.pop()
        merged[-1] = f"{merged[-1]} {tail}"
    return merged


def units(text: str, *, with_clauses: bool = True, max_units: int = 24) -> list[str]:
    """Sentences of a text, and their clauses when a sentence has several; deduplicated."""
    out: list[str] = []
    for sent in sentences(text):
        out.append(sent)
        if with_clauses:
            parts = clauses(sent)
            if len(parts) > 1:
                out.extend(parts)
    return list(dict.fromkeys(out))[:max_units]


def demote(text: str, question: str) -> str:
    """Drop the words of `text` that merely repeat the question's content words.

    Stopwords are dropped too; what is left is the content the text adds to the question.
    """
    qwords = set(content_words(question))
    kept = [
        t
        for t in tokens(text)
        if (t not in STOPWORDS or t in NEGATIONS) and stem(t) not in qwords
    ]
    return " ".join(kept)


def demoted_words(text: str, question: str) -> tuple[str, ...]:
    qwords = set(content_words(question))
    return tuple(w for w in content_words(text) if w not in qwords)


def negation_count(text: str) -> int:
    return sum(1 for t in tokens(text) if t in NEGATIONS or t.endswith("n't"))
