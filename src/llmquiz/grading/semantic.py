"""The semantic grader: embeddings of answer units vs. key points, plus lexical signals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmquiz.grading import text as tx
from llmquiz.grading.embedder import Embedder, SentenceTransformerEmbedder
from llmquiz.grading.kinds import grade_fixed, key_points_of
from llmquiz.grading.lexical import keyword_share, lexical_similarity, point_recall
from llmquiz.grading.result import GradeResult
from llmquiz.grading.store import EmbeddingCache

if TYPE_CHECKING:
    from llmquiz.bank import Question

CHUNK = 256  # answers encoded per batch in grade_many
COVERED_AT = 0.6  # key-point support at which it counts as covered


@dataclass
class _Side:
    """The bank side of one question: its texts and their vectors."""

    points: tuple[str, ...]
    point_vecs: Any
    reference_vec: Any
    question_vec: Any


class SemanticGrader:
    def __init__(
        self,
        model: str | None = None,
        device: str = "auto",
        home: Path | None = None,
        neighbours: Sequence[Question] = (),
        *,
        embedder: Embedder | None = None,
    ) -> None:
        cache_dir = Path(home) / "cache" if home is not None else None
        self._embedder: Embedder = embedder or SentenceTransformerEmbedder(model, device, cache_dir)
        self.model_name = self._embedder.name
        self.name = f"semantic:{self.model_name}"
        self._cache = EmbeddingCache(cache_dir, self._embedder.model_id)
        self._neighbours = tuple(neighbours)
        self._sides: dict[tuple[str, str, str, tuple[str, ...]], _Side] = {}
        self._lock = threading.RLock()
        self._loaded = False

    # -- lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Import torch, load and verify the model. Idempotent; other threads wait for it."""
        with self._lock:
            if not self._loaded:
                self._embedder.load()
                self._loaded = True

    def prepare(self, questions: Sequence[Question]) -> None:
        """Embed (or read from the cache) the bank texts of these questions."""
        self.load()
        with self._lock:
            todo = [q for q in questions if q.kind == "free" and self._side_key(q) not in self._sides]
            if not todo:
                return
            texts: list[str] = []
            for q in todo:
                texts.extend(self._bank_texts(q))
            self._embed_bank(texts)
            for q in todo:
                self._sides[self._side_key(q)] = self._build_side(q)
            self._cache.save()

    # -- grading --------------------------------------------------------------------------
    def grade(self, question: Question, answer: str) -> GradeResult:
        return self.grade_many([(question, answer)])[0]

    def grade_many(
        self,
        items: Sequence[tuple[Question, str]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[GradeResult]:
        results: list[GradeResult | None] = [None] * len(items)
        pending: list[int] = []
        for i, (question, answer) in enumerate(items):
            fixed = grade_fixed(question, answer)
            if fixed is None:
                pending.append(i)
            else:
                results[i] = fixed
        done = len(items) - len(pending)
        if progress is not None and done:
            progress(done, len(items))
        if pending:
            self.prepare(list({id(items[i][0]): items[i][0] for i in pending}.values()))
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            graded = self._grade_chunk([items[i] for i in chunk])
            for i, result in zip(chunk, graded, strict=True):
                results[i] = result
            done += len(chunk)
            if progress is not None:
                progress(done, len(items))
        return [r for r in results if r is not None]

    # -- internals ------------------------------------------------------------------------
    @staticmethod
    def _side_key(q: Question) -> tuple[str, str, str, tuple[str, ...]]:
        return (q.id, q.question, q.answer, tuple(q.key_points))

    @staticmethod
    def _bank_texts(q: Question) -> list[str]:
        return [*key_points_of(q), q.answer, q.question]

    def _embed_bank(self, texts: Sequence[str]) -> None:
        missing = self._cache.missing(texts)
        if missing:
            self._cache.put(missing, self._embedder.encode(missing))

    def _vec(self, text: str) -> Any:
        vec = self._cache.get(text)
        if vec is None:
            self._embed_bank([text])
            vec = self._cache.get(text)
        return vec

    def _build_side(self, q: Question) -> _Side:
        import numpy as np

        points = key_points_of(q)
        return _Side(
            points=points,
            point_vecs=np.stack([self._vec(p) for p in points]),
            reference_vec=self._vec(q.answer),
            question_vec=self._vec(q.question),
        )

    def _side(self, q: Question) -> _Side:
        with self._lock:
            side = self._sides.get(self._side_key(q))
            if side is None:
                self.prepare([q])
                side = self._sides[self._side_key(q)]
            return side

    def _grade_chunk(self, items: Sequence[tuple[Question, str]]) -> list[GradeResult]:
        import numpy as np

        unit_lists = []
        texts: list[str] = []
        for _, answer in items:
            answer = tx.normalize(answer)
            units = [answer, *(u for u in tx.units(answer) if u != answer)]
            unit_lists.append((len(texts), len(units)))
            texts.extend(units)
        vecs = self._embedder.encode(texts)
        out = []
        for (question, answer), (start, count) in zip(items, unit_lists, strict=True):
            side = self._side(question)
            answer_vecs = vecs[start : start + count]
            out.append(self._score(question, answer, side, answer_vecs, np))
        return out

    def _score(self, q: Question, answer: str, side: _Side, answer_vecs: Any, np: Any) -> GradeResult:
        whole = float(answer_vecs[0] @ side.reference_vec)
        support = (side.point_vecs @ answer_vecs.T).max(axis=1)
        coverage = float(support.mean())
        lexical = [point_recall(p, answer, q.question) for p in side.points]
        overlap = lexical_similarity(answer, q.answer, q.question)
        raw = 0.4 * whole + 0.4 * coverage + 0.2 * overlap
        keywords = keyword_share(q.keywords, answer)
        score = 100.0 * min(1.0, max(0.0, (raw - 0.3) / 0.45))
        point_ok = [float(s) >= COVERED_AT or lx >= 0.8 for s, lx in zip(support, lexical, strict=True)]
        covered = tuple(p for p, ok in zip(side.points, point_ok, strict=True) if ok)
        missed = tuple(p for p, ok in zip(side.points, point_ok, strict=True) if not ok)
        signals = {"whole": whole, "coverage": coverage, "overlap": overlap, "raw": raw}
        if keywords is not None:
            signals["keywords"] = keywords
        return GradeResult.make(
            score,
            method="semantic",
            missed=missed,
            covered=covered,
            model=self.model_name,
            signals=signals,
        )
