"""An answer's claims: its sentences and clauses, each with a vector pooled from one encoding.

The answer is encoded once (encoding.py); a claim's vector is the mean of its content
tokens' vectors (stopwords and words that repeat the question left out), so restating the
question matches nothing. `fine` lists the smallest claims (a sentence's clauses, or the
sentence itself): the ones whose words can reverse a key point. Imports numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmquiz.grading import text as tx
from llmquiz.grading.encoding import Encoded

MAX_JUDGED_WORDS = 60  # the longest answer passage the judge was trained on


@dataclass(frozen=True)
class Claims:
    texts: list[str]  # the claims' own words
    vecs: np.ndarray  # (claims x D) question-demoted vectors, L2-normalised
    fine: list[int]  # indexes of the smallest claims
    content_tokens: np.ndarray  # the answer's demoted token vectors, normalised
    judged: list[int]  # indexes of the claims the claim judge reads: the answer's sentences


def encoded_claims(enc: Encoded, question_stems: frozenset[str]) -> Claims:
    answer = enc.text
    mask = enc.content_mask(question_stems)
    tokens = enc.norm_tok[mask] if len(mask) else enc.norm_tok
    spans = tx.unit_spans(answer)
    whole = (0, len(answer))
    if whole not in spans:
        spans.append(whole)
    finest = tx.finest_spans(answer)
    sentences = tx.sentence_spans(answer)
    # the judge reads whole sentences (trained on passages of up to three, it needs the
    # "rather than ..." that a clause split cuts off), and the clauses of an overlong one
    overlong = [(a, b) for a, b in sentences if len(answer[a:b].split()) > MAX_JUDGED_WORDS]
    vecs, texts, fine, judged = [], [], [], []
    for a, b in spans:
        vec = enc.span_vec(a, b, question_stems)
        if vec is not None:
            if (a, b) in finest:
                fine.append(len(texts))
            short = len(answer[a:b].split()) <= MAX_JUDGED_WORDS
            sentence = (a, b) in sentences or ((a, b) == whole and len(sentences) <= 1)
            inside_overlong = any(s <= a and b <= e and (a, b) != (s, e) for s, e in overlong)
            if short and (sentence or inside_overlong):
                judged.append(len(texts))
            vecs.append(vec)
            texts.append(answer[a:b])
    if not len(mask) and not vecs:  # a model without token offsets: the answer is one claim
        vecs, texts, fine, judged = [enc.vec], [answer], [0], [0]
    matrix = np.stack(vecs) if vecs else np.zeros((0, len(enc.vec)), dtype=np.float32)
    return Claims(texts, matrix, fine, tokens, judged)
