"""Benchmark data: a folder with `corpus.jsonl` and `questions.jsonl`.

`corpus.jsonl` holds one passage per line, `{"id", "title", "text"}`; `questions.jsonl`
holds `{"id", "question", "answer", "supporting": [passage ids]}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kgrag.core.errors import KgragError

CORPUS_FILE = "corpus.jsonl"
QUESTIONS_FILE = "questions.jsonl"


class BenchDataError(KgragError, ValueError):
    """A benchmark file is malformed; the message names the file and line."""


@dataclass
class Passage:
    id: str
    title: str
    text: str


@dataclass
class Question:
    id: str
    question: str
    answer: str
    supporting: list[str]


def _records(path: Path, limit: int | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line, stopping after `limit` records."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    count = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if limit is not None and count >= limit:
                return
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BenchDataError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise BenchDataError(f"{path}:{lineno}: expected a JSON object")
            count += 1
            yield lineno, obj


def _str_field(obj: dict[str, Any], key: str, path: Path, lineno: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise BenchDataError(f"{path}:{lineno}: field {key!r} must be a string, got {value!r}")
    return value


def load_corpus(dir: Path, limit: int | None = None) -> list[Passage]:
    """Read the first `limit` passages (all when None) of `dir/corpus.jsonl`."""
    path = Path(dir) / CORPUS_FILE
    passages: list[Passage] = []
    seen: set[str] = set()
    for lineno, obj in _records(path, limit):
        passage = Passage(
            id=_str_field(obj, "id", path, lineno),
            title=_str_field(obj, "title", path, lineno),
            text=_str_field(obj, "text", path, lineno),
        )
        if passage.id in seen:
            raise BenchDataError(f"{path}:{lineno}: duplicate passage id {passage.id!r}")
        seen.add(passage.id)
        passages.append(passage)
    return passages


def load_questions(dir: Path, limit: int | None = None) -> list[Question]:
    """Read the first `limit` questions (all when None) of `dir/questions.jsonl`.

    Every question needs at least one supporting passage id: retrieval metrics are
    undefined without one.
    """
    path = Path(dir) / QUESTIONS_FILE
    questions: list[Question] = []
    for lineno, obj in _records(path, limit):
        supporting = obj.get("supporting")
        if (
            not isinstance(supporting, list)
            or not supporting
            or not all(isinstance(s, str) for s in supporting)
        ):
            raise BenchDataError(
                f"{path}:{lineno}: field 'supporting' must be a non-empty list of passage ids,"
                f" got {supporting!r}"
            )
        questions.append(
            Question(
                id=_str_field(obj, "id", path, lineno),
                question=_str_field(obj, "question", path, lineno),
                answer=_str_field(obj, "answer", path, lineno),
                supporting=list(supporting),
            )
        )
    return questions


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def sample(dir: Path, n_passages: int, out_dir: Path) -> Path:
    """Write a consistent subset of `dir` with exactly `n_passages` passages to `out_dir`.

    Questions are taken in file order while all of their supporting passages still fit;
    the remaining slots are filled with other passages in corpus order as distractors.
    The result is deterministic and every kept question's supporting passages are in
    the sampled corpus. Returns `out_dir`.
    """
    corpus = load_corpus(dir)
    questions = load_questions(dir)
    if not 0 < n_passages <= len(corpus):
        raise ValueError(f"n_passages must be in 1..{len(corpus)}, got {n_passages}")
    known = {p.id for p in corpus}
    kept_ids: set[str] = set()
    kept_questions: list[Question] = []
    for q in questions:
        missing = [s for s in q.supporting if s not in known]
        if missing:
            raise BenchDataError(
                f"{Path(dir) / QUESTIONS_FILE}: question {q.id!r} cites unknown passages {missing}"
            )
        needed = kept_ids.union(q.supporting)
        if len(needed) <= n_passages:
            kept_ids = needed
            kept_questions.append(q)
    if not kept_questions:
        raise ValueError(f"no question's supporting passages fit in {n_passages} passages")
    for p in corpus:
        if len(kept_ids) >= n_passages:
            break
        kept_ids.add(p.id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / CORPUS_FILE, [asdict(p) for p in corpus if p.id in kept_ids])
    _write_jsonl(out / QUESTIONS_FILE, [asdict(q) for q in kept_questions])
    return out
