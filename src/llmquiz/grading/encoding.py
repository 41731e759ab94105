"""Token-level encodings: one model pass per text gives its vector, token vectors and offsets.

Sentence, clause and question-demoted vectors of a text are mean-pooled from its token
vectors (the model's own pooling is a mean too), so an answer is encoded exactly once.
Imports numpy: import this module only after the model is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from llmquiz.grading import text as tx

_WORD = re.compile(r"[A-Za-z0-9]+(?:[-+#'][A-Za-z0-9]+)*\+*")


def unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


@dataclass(eq=False)
class Encoded:
    """A text as the model sees it.

    vec: the model's sentence embedding (L2-normalised); tok: the vectors of the text's tokens
    (special tokens excluded; may be empty for models without token offsets); off: their
    character offsets in `text`.
    """

    text: str
    vec: np.ndarray
    tok: np.ndarray
    off: np.ndarray
    _masks: dict[frozenset[str], np.ndarray] = field(default_factory=dict, repr=False)

    @cached_property
    def _words(self) -> tuple[np.ndarray, list[str]]:
        """For each token, the index of the word it belongs to (-1: punctuation), and the words."""
        words = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(self.text)]
        owner = np.full(len(self.text) + 1, -1, dtype=np.int64)
        for i, (a, b, _) in enumerate(words):
            owner[a:b] = i
        starts = np.clip(self.off[:, 0], 0, len(self.text)) if len(self.off) else np.zeros(0, int)
        return owner[starts], [w for _, _, w in words]

    @cached_property
    def norm_tok(self) -> np.ndarray:
        if not len(self.tok):
            return self.tok
        return self.tok / np.maximum(np.linalg.norm(self.tok, axis=1, keepdims=True), 1e-9)

    def content_mask(self, question_stems: frozenset[str]) -> np.ndarray:
        """Tokens of content words (negations kept) that do not repeat the question."""
        mask = self._masks.get(question_stems)
        if mask is None:
            word_of_tok, words = self._words
            keep = np.array(
                [
                    (w not in tx.STOPWORDS or w in tx.NEGATIONS) and tx.stem(w) not in question_stems
                    for w in words
                ],
                dtype=bool,
            )
            mask = np.zeros(len(word_of_tok), dtype=bool)
            has_word = word_of_tok >= 0
            mask[has_word] = keep[word_of_tok[has_word]]
            self._masks[question_stems] = mask
        return mask

    def content_only(self) -> Encoded:
        """A copy with only the tokens of content words: all a bank-side text ever needs."""
        keep = self.content_mask(frozenset())
        if keep.all():
            return self
        return Encoded(self.text, self.vec, np.ascontiguousarray(self.tok[keep]), self.off[keep])

    def span_mask(self, start: int, end: int) -> np.ndarray:
        if not len(self.off):
            return np.zeros(0, dtype=bool)
        return (self.off[:, 0] >= start) & (self.off[:, 1] <= end) & (self.off[:, 1] > self.off[:, 0])

    def span_vec(self, start: int, end: int, question_stems: frozenset[str]) -> np.ndarray | None:
        """The pooled vector of the content tokens inside text[start:end]; None when there are none."""
        mask = self.content_mask(question_stems)
        return self.pooled(mask & self.span_mask(start, end)) if len(mask) else None

    def pooled(self, mask: np.ndarray) -> np.ndarray | None:
        """Mean of the selected token vectors, normalised; None when nothing is selected."""
        if not len(mask) or not mask.any():
            return None
        return unit(self.tok[mask].mean(axis=0))


def question_stems(question: str) -> frozenset[str]:
    return frozenset(tx.content_words(question))
