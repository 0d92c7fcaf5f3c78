"""`kgrag bench answers`: answers on a dev set, and refusals where it holds no answer.

The first `limit` questions are asked twice, through the public `Client`: of the corpus's
workspace (the answerable split) and of a workspace of the corpus without their
supporting passages (the unanswerable split, `kgrag.bench.unanswerable`). Per question:

* the LLM answer (KGRAG_ANSWER_STYLE's prompt, KGRAG_ANSWER_CONTEXT's sources): exact
  match and token F1 against the gold answer, whether it cites anything it wrote as [n]
  (`cites_written`) and a supporting passage (`cites_supporting`), whether it refused;
* the evidence answer (no model): whether the gold answer is in its sentences
  (`evidence_hit`);
* the question's support, the score KGRAG_REFUSE_BELOW is compared with. Its
  distributions on the two splits give the threshold that best separates them on this
  set (`calibration`), and the share of each split that the configured one refuses.

On the unanswerable split, EM, F1 and evidence hits say how much of the answer the rest
of the corpus still gives away; the refusal rate is the number that matters there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from kgrag.bench.data import Question
from kgrag.bench.metrics import (
    contains_answer,
    exact_match,
    refusal_threshold,
    share_below,
    token_f1,
)
from kgrag.bench.report import write_json
from kgrag.bench.retrieval import BenchCorpus, ingest, prepare
from kgrag.bench.unanswerable import without_supporting
from kgrag.client import Client
from kgrag.core.settings import Settings

SPLITS = ("answerable", "unanswerable")
PERCENTILES = (10, 25, 50, 75, 90)


def run_answers(
    data: Path,
    limit: int | None = 20,
    mode: str = "fused",
    out: Path | None = None,
    reuse: bool = True,
    settings: Settings | None = None,
    llm: bool = True,
) -> dict[str, Any]:
    """Both splits' metrics (`splits`), the support distributions and calibration, and
    every row (`answers`). `llm=False` skips the model: evidence and support only."""
    settings = settings or Settings()
    corpus = prepare(data, settings, limit)
    held_out = without_supporting(corpus, corpus.questions, settings)
    rows: list[dict[str, Any]] = []
    for split, bench in zip(SPLITS, (corpus, held_out), strict=True):
        ingest(bench, settings, reuse)
        client = Client(workspace=bench.workspace, settings=settings)
        rows += [_ask(client, bench, q, mode, llm) | {"split": split} for q in bench.questions]
    scores = {s: [r["support"] for r in rows if r["split"] == s] for s in SPLITS}
    result: dict[str, Any] = {
        "dataset": corpus.name,
        "mode": mode,
        "questions": len(corpus.questions),
        "answer_style": settings.answer_style if llm else None,
        "answer_context": settings.answer_context if llm else None,
        "refuse_below": settings.refuse_below,
        "splits": {s: _summary([r for r in rows if r["split"] == s], llm) for s in SPLITS},
        "support": {s: _percentiles(v) for s, v in scores.items()},
        "calibration": refusal_threshold(scores["answerable"], scores["unanswerable"]),
        "refuse_below_rates": _rates_below(scores, settings.refuse_below),
        "answers": rows,
    }
    if out is not None:
        write_json(result, out)
    return result


def _ask(client: Client, corpus: BenchCorpus, q: Question, mode: str, llm: bool) -> dict[str, Any]:
    evidence = client.ask(q.question, mode=mode, answer="evidence")
    row: dict[str, Any] = {
        "id": q.id,
        "gold": q.answer,
        "support": evidence.support,
        "evidence": evidence.text,
        "evidence_hit": not evidence.refused and contains_answer(evidence.text, q.answer),
        "evidence_refused": evidence.refused,
    }
    if not llm:
        return row
    started = time.perf_counter()
    answer = client.ask(q.question, mode=mode)
    cited = {corpus.passage_of(c.path) for c in answer.citations}
    return row | {
        "answer": answer.text,
        "em": exact_match(answer.text, q.answer),
        "f1": token_f1(answer.text, q.answer),
        "cites_written": bool(answer.citations),
        "cites_supporting": bool(cited & set(q.supporting)),
        "refused": answer.refused,
        "ms": (time.perf_counter() - started) * 1000,
    }


def _summary(rows: list[dict[str, Any]], llm: bool) -> dict[str, Any]:
    """Shares (0..1) over the split's questions; the LLM's only when it was asked."""
    n = len(rows) or 1
    out: dict[str, Any] = {
        "evidence_hit": sum(r["evidence_hit"] for r in rows) / n,
        "evidence_refused": sum(r["evidence_refused"] for r in rows) / n,
    }
    if llm:
        for key, name in (("em", "exact_match"), ("f1", "token_f1")):
            out[name] = sum(r[key] for r in rows) / n
        for key in ("cites_written", "cites_supporting", "refused"):
            out[key] = sum(r[key] for r in rows) / n
        out["latency_ms"] = {"p50": float(np.median([r["ms"] for r in rows])) if rows else 0.0}
    return out


def _rates_below(scores: dict[str, list[float]], threshold: float | None) -> dict[str, float]:
    """What a refusal threshold refuses of each split; nothing when there is none."""
    if threshold is None:
        return {}
    return {f"refuses_{split}": share_below(v, threshold) for split, v in scores.items()}


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    points = np.percentile(np.asarray(values, dtype=np.float64), PERCENTILES)
    return {f"p{p}": float(v) for p, v in zip(PERCENTILES, points, strict=True)}
