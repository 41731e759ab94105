"""Training pairs for the claim judge, made by rules from the project's own texts.

A pair is (premise, hypothesis, label): does the premise (a clause a learner might write)
SUPPORT the hypothesis (a key point or a misconception's claim), CONTRADICT it, or say
NEITHER? Sources, all shipped with the project or beside it:

- support: the reference sentence that states a key point; the seed documents' sentences
  that say the same in other words (the bank records each question's seed item; numbers
  must agree, since the seeds' known errors are mostly numbers); the point itself; a
  misconception's claim for itself.
- contradict: the point or its sentence negated, a direction word swapped for its opposite,
  two contrasted terms swapped, a number changed; a misconception's claim against its
  correction and against the key point the correction restates.
- neither: another key point of the question, a neighbouring question's sentence, a far-off
  sentence, the point's words as a list, the question itself.

No graded answers are used. Everything is seeded: the same inputs and seed give the same
pairs in the same order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmquiz.bank import Question
from llmquiz.grading import text as tx

SUPPORT, CONTRADICT, NEITHER = 0, 1, 2
LABELS = ("support", "contradict", "neither")


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: int
    rule: str  # which rule made it (for the training report)


# Terms a learner swaps for one another: swapping one for the other in a statement reverses it.
CONTRAST_TERMS = """
precision recall | encoder decoder | encoders decoders | query key | queries keys | keys values |
top-k top-p | bi-encoder cross-encoder | bi-encoders cross-encoders | bleu rouge | training inference |
input output | inputs outputs | student teacher | retriever generator | sparse dense | lora qlora |
prefill decode | prefill decoding | pre-training fine-tuning | pretraining fine-tuning | bias variance |
overfitting underfitting | train test | weights activations | tokens characters | words tokens |
chosen rejected | policy reward | actor critic | supervised unsupervised | prompt completion |
system user | fp16 fp32 | int8 int4 | 4-bit 8-bit | lower higher | local global | semantic lexical |
bm25 embeddings | keyword semantic | recall latency | memory compute | bandwidth compute |
hallucination grounding | zero-shot few-shot | greedy sampling | beam greedy | width depth |
rows columns | sine cosine | absolute relative | mean max | cosine euclidean | vector keyword |
chunk document | small large | short long | pre-norm post-norm | batch layer | dropout weight-decay |
""".replace("\n", " ")

# Words that can stand for one another without changing a claim: a paraphrase differs from a
# point in words too, and the judge must learn that only some changes reverse it.
SYNONYMS = """
keeps stores | keep store | kept stored | earlier previous | prior previous | past previous |
faster quicker | reduces lowers | reduce lower | reduces cuts | reduced lowered | increases raises |
increase raise | grows increases | large big | larger bigger | small little | many numerous |
uses employs | use apply | helps aids | shows indicates | retrieves fetches | retrieve fetch |
documents texts | passages chunks | answer response | answers responses | computes calculates |
compute calculate | computed calculated | requires needs | require need | avoids prevents |
avoid prevent | method technique | approach method | often frequently | usually typically |
about roughly | approximately roughly | gives provides | give provide | adds appends |
each every | whole entire | fewer less | quickly rapidly | slow sluggish | costly expensive |
cheap inexpensive | important key | main primary | common frequent | generates produces |
generate produce | generated produced | model network | weights parameters | builds constructs |
learns acquires | learned acquired | tuned adjusted | removes drops | remove drop | combines merges |
combine merge | selects picks | select pick | chosen picked | split divided | splits divides |
ensures guarantees | improves boosts | improve boost | hurts harms | measures quantifies |
measure quantify | compares contrasts | limit cap | limits caps | allows lets | allow let |
enables allows | makes renders | prompt input | query request | queries requests | llm model |
""".replace("\n", " ")

_NEGATABLE = re.compile(
    r"\b(is|are|was|were|can|will|does|do|did|should|must|has|have|may|could|would)\b(?!\s+not\b)",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(is|are|was|were|does|do|did|should|must|has|have|may|could|would|will|can)\s+not\b|\bcannot\b|"
    r"\b(isn't|aren't|doesn't|don't|can't|won't|never)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]*\d)")


def _pairs_of(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in spec.split("|"):
        words = pair.split()
        if len(words) == 2:
            out.setdefault(words[0], words[1])
            out.setdefault(words[1], words[0])
    return out


_OPPOSITE = _pairs_of(tx.OPPOSITE_PAIRS)
_CONTRAST = _pairs_of(CONTRAST_TERMS)
_SYNONYM = _pairs_of(SYNONYMS)


def negate(sentence: str) -> str | None:
    """The sentence with its first auxiliary negated, or an existing negation removed."""
    m = _NEGATED.search(sentence)
    if m:
        word = m.group(0).lower()
        fixed = {"cannot": "can", "isn't": "is", "aren't": "are", "doesn't": "does", "don't": "do",
                 "can't": "can", "won't": "will", "never": "always"}.get(word)  # fmt: skip
        replacement = fixed if fixed else m.group(1)
        return sentence[: m.start()] + replacement + sentence[m.end() :]
    m = _NEGATABLE.search(sentence)
    if not m:
        return None
    word = m.group(0)
    negated = "cannot" if word.lower() == "can" else f"{word} not"
    return sentence[: m.start()] + negated + sentence[m.end() :]


def _swap_word(
    sentence: str, table: dict[str, str], rng: random.Random, within: str | None = None
) -> str | None:
    """Replace one word found in `table` (and in `within`, if given) by its partner."""
    allowed = set(tx.tokens(within)) if within is not None else None
    spots = [
        m
        for m in re.finditer(r"[A-Za-z][\w-]*", sentence)
        if m.group(0).lower() in table and (allowed is None or m.group(0).lower() in allowed)
    ]
    if not spots:
        return None
    m = rng.choice(spots)
    new = table[m.group(0).lower()]
    if m.group(0)[0].isupper():
        new = new[0].upper() + new[1:]
    return sentence[: m.start()] + new + sentence[m.end() :]


def swap_opposite(sentence: str, rng: random.Random, within: str | None = None) -> str | None:
    return _swap_word(sentence, _OPPOSITE, rng, within)


def swap_roles(
    sentence: str, terms: Sequence[str], rng: random.Random, within: str | None = None
) -> str | None:
    """Exchange two different terms of the sentence (a contrast pair, or two of `terms`), or
    put a contrasted term in the place of its partner; only terms that `within` names too."""
    lowered = sentence.lower()
    scope = (within or sentence).lower()
    found = [
        t
        for t in dict.fromkeys(terms)
        if len(t) > 2 and re.search(rf"\b{re.escape(t)}\b", lowered) and t in scope
    ]
    if len(found) >= 2:
        a, b = rng.sample(found, 2)
        pattern = re.compile(rf"\b({re.escape(a)}|{re.escape(b)})\b", re.IGNORECASE)
        swapped = pattern.sub(lambda m: b if m.group(0).lower() == a else a, sentence)
        return swapped if swapped.lower() != lowered else None
    present = [w for w in _CONTRAST if re.search(rf"\b{re.escape(w)}\b", lowered)]
    both = [w for w in present if _CONTRAST[w] in present]
    if both:  # the sentence names both: exchange them
        a = rng.choice(both)
        b = _CONTRAST[a]
        pattern = re.compile(rf"\b({re.escape(a)}|{re.escape(b)})\b", re.IGNORECASE)
        return pattern.sub(lambda m: b if m.group(0).lower() == a else a, sentence)
    return _swap_word(sentence, _CONTRAST, rng, within)


def paraphrase(sentence: str, rng: random.Random) -> str | None:
    """The sentence with one to three words replaced by synonyms: the same claim in other words."""
    spots = [m for m in re.finditer(r"[A-Za-z][\w-]*", sentence) if m.group(0).lower() in _SYNONYM]
    if not spots:
        return None
    chosen = sorted(rng.sample(spots, min(len(spots), rng.randint(1, 3))), key=lambda m: m.start())
    out, pos = [], 0
    for m in chosen:
        new = _SYNONYM[m.group(0).lower()]
        out += [sentence[pos : m.start()], new[0].upper() + new[1:] if m.group(0)[0].isupper() else new]
        pos = m.end()
    return "".join([*out, sentence[pos:]])


def change_number(sentence: str, rng: random.Random) -> str | None:
    spots = list(_NUMBER.finditer(sentence))
    if not spots:
        return None
    m = rng.choice(spots)
    value = float(m.group(1))
    new = rng.choice([value * 2, value / 2, value * 10, value + 1]) if value else 1.0
    text = f"{new:g}" if new != int(new) else str(int(new))
    return sentence[: m.start()] + text + sentence[m.end() :]


def term_list(sentence: str, rng: random.Random) -> str | None:
    words = [t for t in tx.tokens(sentence) if t not in tx.STOPWORDS and t not in tx.NEGATIONS]
    if len(words) < 3:
        return None
    words = list(dict.fromkeys(words))
    rng.shuffle(words)
    return rng.choice([", ", " ", "; "]).join(words[: rng.randint(3, 7)])


def numbers_agree(candidate: str, truth: str) -> bool:
    """Every number the candidate states also appears in the truth."""
    return set(_NUMBER.findall(candidate)) <= set(_NUMBER.findall(truth))


def overlap(point: str, sentence: str) -> float:
    """Share of the point's content words the sentence repeats."""
    words = set(tx.content_words(point)) - set(tx.NEGATIONS)
    if not words:
        return 0.0
    return len(words & set(tx.content_words(sentence))) / len(words)


def reference_sentences(q: Question) -> list[str]:
    return [s for s in tx.sentences(q.answer) if len(s.split()) >= 4]


def best_sentence(point: str, sentences: Sequence[str]) -> tuple[str, float]:
    scored = [(overlap(point, s), s) for s in sentences]
    if not scored:
        return "", 0.0
    score, sentence = max(scored, key=lambda item: item[0])
    return sentence, score


def question_terms(q: Question) -> list[str]:
    """Terms of a question that a learner may swap: keywords, acronyms and hyphenated terms."""
    found = [k.lower() for k in q.keywords]
    found += [t for t in tx.tokens(q.question) if "-" in t or (len(t) <= 5 and t.upper() in q.question)]
    return list(dict.fromkeys(t for t in found if t not in tx.STOPWORDS))


@dataclass(frozen=True)
class SeedPassage:
    question_id: str
    sentences: tuple[str, ...]


def seed_passages(questions: Iterable[Question], seeds: Path) -> list[SeedPassage]:
    """For each question, the sentences of the seed items its `sources` point at."""
    from llmquiz.importing import find_items

    items = {}
    for path in sorted(seeds.glob("0*.txt")):
        items[path.name] = find_items(path.read_text(encoding="utf-8"))
    out = []
    for q in questions:
        sentences: list[str] = []
        for source in q.sources:
            name, _, line = source.rpartition(":")
            for item in items.get(name, []):
                if abs(item.line - int(line or 0)) <= 3 and item.answer:
                    text = re.sub(
                        r"\$\$.*?\$\$|!\[[^\]]*\]\([^)]*\)|\*\*|__|#+\s*", " ", item.answer, flags=re.S
                    )
                    sentences += [s for s in tx.sentences(text) if 5 <= len(s.split()) <= 45]
        if sentences:
            out.append(SeedPassage(q.id, tuple(dict.fromkeys(sentences))))
    return out


def build_pairs(
    questions: Sequence[Question],
    seeds: Sequence[SeedPassage],
    rng: random.Random,
    similar: dict[tuple[str, str], float] | None = None,
) -> list[Pair]:
    """Every rule's pairs for the free questions given (see the module docstring).

    `similar` optionally maps (point, seed sentence) to the bi-encoder's cosine, which then
    decides which seed sentences restate a point; without it, word overlap decides alone.
    """
    free = [q for q in questions if q.kind == "free" and q.key_points]
    seed_of = {s.question_id: s.sentences for s in seeds}
    far_pool = [s for q in free for s in reference_sentences(q)]
    by_topic: dict[str, list[Question]] = {}
    for q in free:
        by_topic.setdefault(q.topic, []).append(q)
    pairs: list[Pair] = []

    def add(premise: str | None, hypothesis: str, label: int, rule: str) -> None:
        if not premise or not premise.strip():
            return
        if label != SUPPORT and tx.normalize(premise).lower() == tx.normalize(hypothesis).lower():
            return  # the rule changed nothing
        pairs.append(Pair(tx.normalize(premise), tx.normalize(hypothesis), label, rule))

    def beside(sentence: str, sentences: Sequence[str]) -> str:
        """The sentence with a neighbouring one of the same text: support can sit in context."""
        others = [s for s in sentences if s != sentence]
        if not others:
            return sentence
        other = rng.choice(others)
        return f"{sentence} {other}" if rng.random() < 0.5 else f"{other} {sentence}"

    for q in free:
        sentences = reference_sentences(q)
        terms = question_terms(q)
        siblings = [n for n in by_topic[q.topic] if n.id != q.id]
        for index, point in enumerate(q.key_points):
            stated, score = best_sentence(point, sentences)
            if score >= 0.5:
                add(stated, point, SUPPORT, "reference-sentence")
                if rng.random() < 0.6:
                    add(beside(stated, sentences), point, SUPPORT, "reference-in-context")
                for a, b in tx.clause_spans(stated, 0, len(stated)):
                    clause = stated[a:b]
                    if clause != stated and overlap(point, clause) >= 0.6 and len(clause.split()) >= 4:
                        add(clause, point, SUPPORT, "reference-clause")
                        break
            if rng.random() < 0.25:
                add(point, point, SUPPORT, "point-itself")
            reworded = paraphrase(point, rng)
            add(reworded, point, SUPPORT, "point-reworded")
            if score >= 0.5:
                add(paraphrase(stated, rng), point, SUPPORT, "sentence-reworded")
            if reworded:  # other words and a reversal together: only the reversal decides
                add(negate(reworded), point, CONTRADICT, "reworded-negated")
                add(swap_opposite(reworded, rng, point), point, CONTRADICT, "reworded-opposite")
            for sentence in seed_of.get(q.id, ()):
                cos = similar.get((point, sentence)) if similar else None
                lexical = overlap(point, sentence)
                restates = (cos is not None and cos >= 0.6 and lexical >= 0.25) or (
                    cos is None and lexical >= 0.6
                )
                if restates and numbers_agree(sentence, q.answer + " " + point):
                    add(sentence, point, SUPPORT, "seed-paraphrase")
            # the same point said wrongly: from the point itself and from its reference
            # sentence, changing only what the point says (a word it names)
            for source in dict.fromkeys([point, stated] if score >= 0.5 else [point]):
                if source is point or len(source.split()) <= 25:
                    negated = negate(source)
                    add(negated, point, CONTRADICT, "negated")
                    if negated and rng.random() < 0.3:
                        add(beside(negated, sentences), point, CONTRADICT, "negated-in-context")
                add(swap_opposite(source, rng, point), point, CONTRADICT, "opposite-word")
                add(swap_roles(source, terms, rng, point), point, CONTRADICT, "swapped-roles")
                if numbers_agree(point, source):
                    add(change_number(source, rng), point, CONTRADICT, "changed-number")
            # not covered
            others = [p for i, p in enumerate(q.key_points) if i != index and overlap(point, p) < 0.5]
            if others:
                add(rng.choice(others), point, NEITHER, "other-point")
            unrelated = [s for s in sentences if overlap(point, s) < 0.25]
            if unrelated:
                add(rng.choice(unrelated), point, NEITHER, "other-sentence")
            near = [p for n in siblings for p in n.key_points if overlap(point, p) < 0.5]
            if near:
                add(rng.choice(near), point, NEITHER, "neighbour-point")
            if rng.random() < 0.6:
                add(rng.choice(far_pool), point, NEITHER, "far-off")
            if rng.random() < 0.5:
                add(term_list(point, rng), point, NEITHER, "term-list")
            if rng.random() < 0.5:
                add(q.question, point, NEITHER, "question-echo")
        truths = [*q.key_points, *sentences]
        for wrong in q.misconceptions:
            add(wrong.claim, wrong.claim, SUPPORT, "point-itself")
            add(paraphrase(wrong.claim, rng), wrong.claim, SUPPORT, "point-reworded")
            add(wrong.correction, wrong.claim, CONTRADICT, "misconception-corrected")
            add(wrong.claim, wrong.correction, CONTRADICT, "misconception-against-truth")
            restated, score = best_sentence(wrong.correction, [*q.key_points, *sentences])
            if score >= 0.5:
                add(wrong.correction, restated, SUPPORT, "correction-for-point")
                add(wrong.claim, restated, CONTRADICT, "misconception-against-point")
                add(restated, wrong.claim, CONTRADICT, "point-against-misconception")
            unrelated_points = [p for p in q.key_points if overlap(wrong.correction, p) < 0.3]
            if unrelated_points and rng.random() < 0.5:
                add(rng.choice(unrelated_points), wrong.claim, NEITHER, "point-beside-misconception")
            add(rng.choice(far_pool), wrong.claim, NEITHER, "far-off")
            add(term_list(wrong.claim, rng), wrong.claim, NEITHER, "term-list")
            # what the bank says is true never supports a mistake, however close its words
            for truth in rng.sample(truths, min(3, len(truths))):
                if truth != restated:
                    add(truth, wrong.claim, NEITHER, "truth-beside-misconception")
    pairs = list({(p.premise, p.hypothesis): p for p in pairs}.values())
    rng.shuffle(pairs)
    return pairs
