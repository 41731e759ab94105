"""The semantic grader: an answer -> encoded once -> claims -> judgements -> one score.

How an answer is graded (every number is a global knob in tuning.py, chosen on the dev set):

1. Encode. The answer is encoded once (embedder.py). Its token vectors give a vector per
   sentence and clause (claims.py), pooled over content tokens only, so words that restate
   the question earn nothing.
2. Plan (`_plan`, here). Each key point (the reference's sentences when the bank has none) gets
   a bi-encoder match: token recall and best-clause cosine, mapped from [low, high] to 0-1.
   The clause closest to a covered point is checked for a reversal by its words (text.py). The
   closest claims to each key point and each bank misconception are queued for the claim
   judge. Guards that need no judge are set: a neighbouring question's reference closer than
   the answer's own, missing bank keywords, a term list (capped).
3. Judge. judge.py reads every queued (claim, statement) pair of a batch of answers at once.
4. Read (reading.py). The judge's probabilities become a COVERED / MISSING / CONTRADICTED
   judgement per key point and a repeated-or-not judgement per misconception.
5. Score (scoring.py). One function turns the judgements into the GradeResult: its score,
   verdict, covered and missed points and wrong_claims. Empty and "I don't know" answers get
   their grade before any of this (kinds.py), without the model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmquiz.grading import progress
from llmquiz.grading import text as tx
from llmquiz.grading.embedder import Embedder, make_embedder
from llmquiz.grading.kinds import grade_fixed, key_points_of
from llmquiz.grading.lexical import keyword_share
from llmquiz.grading.reading import (
    FactPlan,
    Plan,
    PointPlan,
    WrongPlan,
    no_probs,
    read_plan,
    top_claims,
)
from llmquiz.grading.result import GradeResult
from llmquiz.grading.scoring import grade_from
from llmquiz.grading.store import EmbeddingCache
from llmquiz.grading.tuning import GraderSettings

if TYPE_CHECKING:
    import numpy as np

    from llmquiz.bank import Misconception, Question
    from llmquiz.grading.encoding import Encoded
    from llmquiz.grading.judge import ClaimJudge
    from llmquiz.grading.judgecache import JudgementCache

CHUNK = 256  # answers encoded per batch in grade_many


@cache
def shipped_references(cache_dir: Path | None = None) -> tuple[str, ...]:
    """The shipped bank's references: the subjects the claim judge was trained on (read once;
    with a data folder's cache_dir, through its kept parsed bank files, as the commands read it)."""
    from llmquiz.bank import load_bank, parse_bank_text
    from llmquiz.bankcache import ParsedBankCache
    from llmquiz.paths import shipped_bank_dir

    parse = ParsedBankCache(cache_dir).parse if cache_dir is not None else parse_bank_text
    return tuple(q.answer for q in load_bank([shipped_bank_dir()], parse).questions if q.kind == "free")


def _ramp(x: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (x - low) / (high - low)))


@dataclass
class _Unit:
    """A bank-side text (key point or reference) prepared for comparison."""

    text: str
    tok: Any  # normalised demoted token vectors (k x D), possibly empty
    vec: Any  # demoted pooled vector (D,)


@dataclass
class _Side:
    """The bank side of one question."""

    question: Question
    stems: frozenset[str]
    points: list[_Unit]
    misconceptions: list[tuple[Misconception, _Unit]]
    reference: _Unit
    reference_vec: Any  # the reference's plain sentence vector
    neighbour_vecs: Any  # plain reference vectors of neighbouring questions (n x D)
    statements: tuple[str, ...]  # key points and reference clauses
    facts: list[tuple[str, _Unit]]  # with key points: the reference's other clauses, each with its sentence
    in_domain: bool = True  # key points, or a reference on the shipped bank's subjects (the judge's)


class SemanticGrader:
    def __init__(
        self,
        model: str | None = None,
        device: str = "auto",
        home: Path | None = None,
        neighbours: Sequence[Question] = (),
        *,
        embedder: Embedder | None = None,
        settings: GraderSettings | None = None,
        engine: str = "auto",
    ) -> None:
        cache_dir = Path(home) / "cache" if home is not None else None
        self._embedder: Embedder = embedder or make_embedder(model, device, cache_dir, engine)
        self.model_name = self._embedder.name
        self.name = f"semantic:{self.model_name}"
        self.settings = settings or GraderSettings()
        self._judge: ClaimJudge | None = None
        self.remember_judgements = True  # the judge's rows kept in the data folder (judgecache.py)
        self._judgements: JudgementCache | None = None
        self._cache = EmbeddingCache(cache_dir, self._embedder.model_id)
        self._cache_dir = cache_dir
        self._neighbours: list[Question] = [q for q in neighbours if q.kind == "free"]
        self._sides: dict[tuple[str, str, str, tuple[str, ...]], _Side] = {}
        self._lock = threading.RLock()
        self._loaded = False
        self._domain_vecs: Any = None  # the shipped bank's reference vectors, once a question needs them

    # -- lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Load and verify the model and the claim judge. Idempotent; other threads wait for it."""
        with self._lock:
            if not self._loaded:
                progress.report(progress.MODEL)
                self._embedder.load()
                if self.settings.judge:
                    from llmquiz.grading.judge import ClaimJudge

                    progress.report(progress.JUDGE)
                    self._judge = ClaimJudge(
                        device=getattr(self._embedder, "device", None) or "cpu",
                        engine=getattr(self._embedder, "engine", "auto"),  # the embedder's, once loaded
                    )
                    self._judge.load()
                self._loaded = True

    def prepare(self, questions: Sequence[Question]) -> None:
        """Encode (or read from the cache) the bank texts these questions need."""
        self.load()
        with self._lock:
            todo = [q for q in questions if q.kind == "free" and self._key(q) not in self._sides]
            if not todo:
                return
            texts: list[str] = []
            for q in todo:
                texts.extend([*key_points_of(q), q.answer, *(m.claim for m in q.misconceptions)])
                texts.extend(n.answer for n in self._neighbours_of(q))
            # a question without key points needs the judge's domain (see _build_side)
            reads = self._judge is not None and self.settings.judge_points
            needs_domain = reads and self._domain_vecs is None
            unkeyed = any(not q.key_points for q in todo)
            domain = list(shipped_references(self._cache_dir)) if needs_domain and unkeyed else []
            texts.extend(domain)
            missing = self._cache.missing(texts)
            if missing:
                progress.report(progress.EMBED)
                self._cache.put(self._embedder.encode(missing))
                self._cache.save()
            if domain:
                import numpy as np

                self._domain_vecs = np.stack([self._encoded(t).vec for t in domain])
            for q in todo:
                self._sides[self._key(q)] = self._build_side(q)

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
            unique = {id(items[i][0]): items[i][0] for i in pending}
            self.prepare(list(unique.values()))
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            answers = [tx.normalize(items[i][1]) for i in chunk]
            encodings = self._embedder.encode(answers)
            plans = [
                self._plan(self._side(items[i][0]), enc) for i, enc in zip(chunk, encodings, strict=True)
            ]
            pairs = [pair for plan in plans for pair in plan.pairs]
            probs = self._judged(pairs)
            row = 0
            for i, plan in zip(chunk, plans, strict=True):
                results[i] = self._finish(plan, probs[row : row + len(plan.pairs)])
                row += len(plan.pairs)
            done += len(chunk)
            if progress is not None:
                progress(done, len(items))
        return [r for r in results if r is not None]

    def _judged(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The judge's rows for the pairs, those read before (by this artifact) from the cache."""
        judge = self._judge
        if judge is None or not pairs:
            return no_probs()
        if not self.remember_judgements:
            return judge.judge(pairs)
        stamp = judge.reading_stamp
        with self._lock:
            if self._judgements is None or self._judgements.stamp != stamp:
                from llmquiz.grading.judgecache import JudgementCache

                self._judgements = JudgementCache(self._cache_dir, stamp)
            judgements = self._judgements
        return judgements.judged(pairs, judge.judge)

    # -- bank side ------------------------------------------------------------------------
    @staticmethod
    def _key(q: Question) -> tuple[str, str, str, tuple[str, ...]]:
        return (q.id, q.question, q.answer, tuple(q.key_points))

    def _neighbours_of(self, q: Question) -> list[Question]:
        """Neighbouring questions: same topic or a shared tag, other id and reference."""
        if not self.settings.neighbours:
            return []
        tags = set(q.tags)
        return [
            n
            for n in self._neighbours
            if n.id != q.id and n.answer != q.answer and (n.topic == q.topic or tags & set(n.tags))
        ]

    def _encoded(self, text: str) -> Encoded:
        enc = self._cache.get(text)
        if enc is None:
            enc = self._embedder.encode([text])[0]
            self._cache.put([enc])
        return enc

    def _unit(self, text: str, stems: frozenset[str]) -> _Unit:
        import numpy as np

        enc = self._encoded(text)
        mask = enc.content_mask(stems)
        if not mask.any():  # a key point made only of question words: use all its content
            mask = enc.content_mask(frozenset())
        tok = enc.norm_tok[mask] if len(mask) else np.zeros((0, len(enc.vec)), dtype=np.float32)
        vec = enc.pooled(mask)
        return _Unit(text, tok, vec if vec is not None else enc.vec)

    @staticmethod
    def _span_unit(enc: Encoded, start: int, end: int, stems: frozenset[str]) -> _Unit | None:
        """A clause of a bank text as a unit, its vector pooled from the text's one encoding."""
        import numpy as np

        vec = enc.span_vec(start, end, stems)
        if vec is None:
            return None
        return _Unit(enc.text[start:end], np.zeros((0, len(vec)), dtype=np.float32), vec)

    def _build_side(self, q: Question) -> _Side:
        import numpy as np

        from llmquiz.grading.encoding import question_stems

        stems = question_stems(q.question)
        reference = self._encoded(q.answer)
        own = reference.vec
        vecs = [self._encoded(n.answer).vec for n in self._neighbours_of(q)]
        # a neighbour saying nearly the same as this reference is not a different concept
        vecs = [v for v in vecs if float(v @ own) < 0.8]
        neighbour_vecs = np.stack(vecs) if vecs else np.zeros((0, len(own)), dtype=np.float32)
        # without key points the judge reads the reference's sentences only on the subjects it was
        # trained on: on others (programming courses) it misreads them (README: the CSV case)
        in_domain = bool(q.key_points) or (
            self._domain_vecs is not None
            and float((self._domain_vecs @ own).max()) >= self.settings.judge_domain_at
        )
        spans = sorted(tx.finest_spans(q.answer))
        # the key points sum the reference up; its clauses say more, and an answer can get one of
        # them wrong in words that still match a key point (without key points they are the points)
        sentences = tx.sentence_spans(q.answer)
        facts = [
            (a, b, next((q.answer[x:y] for x, y in sentences if x <= a and b <= y), q.answer[a:b]))
            for a, b in spans
            if q.key_points and q.answer[a:b] not in q.key_points
        ]
        return _Side(
            question=q,
            stems=stems,
            points=[self._unit(p, stems) for p in key_points_of(q)],
            misconceptions=[(m, self._unit(m.claim, stems)) for m in q.misconceptions],
            reference=self._unit(q.answer, stems),
            reference_vec=own,
            neighbour_vecs=neighbour_vecs,
            statements=tuple(dict.fromkeys([*key_points_of(q), *(q.answer[a:b] for a, b in spans)])),
            facts=[
                (sentence, unit)
                for a, b, sentence in facts
                if (unit := self._span_unit(reference, a, b, stems)) is not None
            ],
            in_domain=in_domain,
        )

    def _side(self, q: Question) -> _Side:
        with self._lock:
            side = self._sides.get(self._key(q))
            if side is None:
                self.prepare([q])
                side = self._sides[self._key(q)]
            return side

    # -- scoring --------------------------------------------------------------------------
    def _agrees(self, side: _Side, point: str, span: str) -> bool:
        """Does the span restate another key point or reference sentence, without reversal?

        Answers that contrast two cases ("small chunks lose context, large ones dilute it")
        then only look reversed against the point about the other case.
        """
        q = side.question.question
        own = tx.reuse_share(span, point, q)
        for other in side.statements:
            if (
                other != point
                and tx.reuse_share(span, other, q) > own
                and not tx.polarity_conflict(other, span, q, 0.0, 0.0)
            ):
                return True
        return False

    def _support(self, unit: _Unit, ans_tok: np.ndarray, span_vecs: np.ndarray) -> tuple[float, np.ndarray]:
        """Support of one bank unit in the answer, and each answer span's cosine with it."""
        import numpy as np

        s = self.settings
        sims = span_vecs @ unit.vec if len(span_vecs) else np.zeros(0)
        span_sim = float(sims.max()) if len(sims) else 0.0
        if len(unit.tok) and len(ans_tok):
            recall = float((unit.tok @ ans_tok.T).max(axis=1).mean())
        else:
            recall = span_sim
        return s.token_weight * recall + (1 - s.token_weight) * span_sim, sims

    def _plan(self, side: _Side, enc: Encoded) -> Plan:
        """Everything about one answer that needs no judge, and the pairs the judge must read."""
        from llmquiz.grading.claims import encoded_claims

        s = self.settings
        answer = enc.text
        claims = encoded_claims(enc, side.stems)
        ans_tok = claims.content_tokens
        # without key points (a CSV), the reference's own sentences stand in for them
        keyed = bool(side.question.key_points)
        plan = Plan(side=side, enc=enc, claims=claims, keyed=keyed)
        supports = [self._support(point, ans_tok, claims.vecs) for point in side.points]
        matches = [_ramp(support, s.low, s.high) for support, _ in supports]
        read = self._judge is not None and s.judge_points and (side.in_domain or s.judge_reference)
        best_first = sorted(range(len(matches)), key=lambda i: -matches[i])
        to_judge = {i for i in best_first[: s.judged_points] if matches[i] > s.judge_from} if read else set()
        for index, (point, (_, sims), match) in enumerate(zip(side.points, supports, matches, strict=True)):
            flipped, flip_at = False, None
            if s.polarity and match >= s.covered_at and len(claims.fine):
                # the clause that says most nearly what the point says: reversed by its words?
                best = flip_at = claims.fine[int(sims[claims.fine].argmax())]
                flipped = tx.polarity_conflict(
                    point.text, claims.texts[best], side.question.question, s.reuse, s.negation_reuse
                ) and not self._agrees(side, point.text, claims.texts[best])
            candidates = top_claims(sims, claims.judged, s.candidates) if index in to_judge else []
            plan.points.append(PointPlan(point.text, match, flipped, flip_at, candidates, sims))
            plan.pairs.extend((claims.texts[i], point.text) for i in candidates)
        for wrong, unit in side.misconceptions:
            _, sims = self._support(unit, ans_tok, claims.vecs)
            gated = [
                i for i in top_claims(sims, claims.judged, s.candidates) if sims[i] >= s.misconception_gate
            ]
            candidates = gated if self._judge is not None else []
            plan.misconceptions.append(WrongPlan(wrong.claim, wrong.correction, candidates))
            plan.pairs.extend((claims.texts[i], wrong.claim) for i in candidates)
        for sentence, clause in side.facts if read and s.reference_facts else ():
            _, sims = self._support(clause, ans_tok, claims.vecs)
            candidates = [i for i in top_claims(sims, claims.judged, 1) if sims[i] >= s.fact_gate]
            plan.facts.append(FactPlan(clause.text, sentence, candidates))
            plan.pairs.extend((claims.texts[i], clause.text) for i in candidates)
        ref_support, _ = self._support(side.reference, ans_tok, claims.vecs)
        plan.reference = _ramp(ref_support, s.low, s.high)
        plan.signals = {"reference_support": ref_support}
        factor = 1.0
        if len(side.neighbour_vecs):
            own = float(enc.vec @ side.reference_vec)
            nearest = float((side.neighbour_vecs @ enc.vec).max())
            gap = nearest - own - s.neighbour_margin
            if gap > 0:
                factor *= 1 - (1 - s.neighbour_floor) * min(1.0, gap / s.neighbour_span)
                plan.signals["neighbour"] = nearest - own
        keywords = keyword_share(side.question.keywords, answer)
        if keywords is not None:
            factor *= 1 - s.keyword_cost * (1 - keywords)
            plan.signals["keywords"] = keywords
        plan.factor = factor
        if tx.is_keyword_salad(answer):
            plan.cap = s.salad_cap
            plan.signals["salad"] = 1.0
        return plan

    def _finish(self, plan: Plan, probs: np.ndarray) -> GradeResult:
        """The grade of one planned answer, from the judge's rows for its pairs."""
        reading = read_plan(plan, probs, self.settings)
        return grade_from(
            reading.points,
            reading.misconceptions,
            reading.facts,
            reference=plan.reference,
            rules=self.settings.rules,
            method="semantic",
            model=self.model_name,
            factor=reading.factor,
            cap=plan.cap,
            signals=plan.signals,
        )
