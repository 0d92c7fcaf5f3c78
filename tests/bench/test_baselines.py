"""Baselines on tiny corpora, plus the data loading and sampling they consume."""

import json

import numpy as np
import pytest

from kgrag.bench.baselines import bm25_rankings, dense_bruteforce_rankings, tokenize
from kgrag.bench.data import (
    BenchDataError,
    Passage,
    Question,
    load_corpus,
    load_questions,
    sample,
)

PASSAGES = [
    Passage("p0", "Eiffel Tower", "The Eiffel Tower is a wrought-iron lattice tower in Paris."),
    Passage("p1", "Mount Everest", "Mount Everest is Earth's highest mountain above sea level."),
    Passage("p2", "Photosynthesis", "Plants turn sunlight, water and carbon dioxide into sugar."),
    Passage("p3", "Python", "Python is a programming language created by Guido van Rossum."),
    Passage("p4", "Amazon River", "The Amazon is the largest river in South America by discharge."),
    Passage("p5", "Great Wall", "The Great Wall of China was built over many centuries."),
    Passage("p6", "Mozart", "Wolfgang Amadeus Mozart composed more than 600 works of music."),
    Passage("p7", "Honey bee", "Honey bees collect nectar from flowers and make honey in hives."),
    Passage("p8", "Volcano", "A volcano is a rupture in the crust where lava erupts."),
    Passage("p9", "Chess", "Chess is a board game for two players on a checkered board."),
]


def _question(text: str, supporting: list[str]) -> Question:
    return Question(id=text, question=text, answer="", supporting=supporting)


def test_tokenize_lowercases_words_and_segments_chinese():
    assert tokenize("Guido's PYTHON, 3.11!") == ["guido", "s", "python", "3", "11"]
    tokens = tokenize("GDP增长了 in 北京市")
    assert tokens[0] == "gdp" and "in" in tokens
    assert "增长" in tokens and "北京市" in tokens


def test_bm25_finds_the_obvious_passage():
    questions = [_question("Who created the Python programming language?", ["p3"]),
                 _question("Which mountain is the highest on Earth?", ["p1"])]
    rankings, latencies = bm25_rankings(PASSAGES, questions, k=3)
    assert [r[0] for r in rankings] == ["p3", "p1"]
    assert all(len(r) == 3 for r in rankings)
    assert len(latencies) == 2 and all(ms >= 0 for ms in latencies)


def test_rankings_are_best_first():
    # one, two and three query words matched; listed worst first
    extra = [Passage("one", "Zoo", "A zebra lives here."),
             Passage("two", "Zoo", "A zebra and a yak live here."),
             Passage("three", "Zoo", "A zebra, a yak and a quokka live here.")]
    rankings, _ = bm25_rankings(PASSAGES + extra, [_question("zebra yak quokka", [])], k=3)
    assert rankings[0] == ["three", "two", "one"]


def test_bm25_chinese_passages():
    passages = [Passage("z0", "天气", "今天北京的天气晴朗，气温二十度。"),
                Passage("z1", "经济", "上海的经济增长速度很快。"),
                Passage("z2", "体育", "中国队在比赛中获得了金牌。")]
    rankings, _ = bm25_rankings(passages, [_question("上海经济增长怎么样？", ["z1"])], k=2)
    assert rankings[0][0] == "z1"


def test_k_larger_than_corpus_returns_everything_once():
    rankings, _ = bm25_rankings(PASSAGES[:3], [_question("tower", ["p0"])], k=10)
    assert sorted(rankings[0]) == ["p0", "p1", "p2"]


class FixedEncoder:
    """Looks texts up in a table of unit vectors, to check ranking without a model."""

    def __init__(self, vectors: dict[str, np.ndarray]):
        self.vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def test_dense_ranks_by_exact_cosine_best_first():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(500, 8))
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    passages = [Passage(f"d{i}", f"t{i}", "x") for i in range(500)]
    query = matrix[7] + 0.1
    query /= np.linalg.norm(query)
    encoder = FixedEncoder({f"t{i}\nx": matrix[i] for i in range(500)} | {"q": query})
    rankings, _ = dense_bruteforce_rankings(passages, [_question("q", ["d7"])], encoder, k=40)
    expected = [f"d{i}" for i in np.argsort(-(matrix @ query))[:40]]
    assert rankings[0] == expected


@pytest.fixture(scope="module")
def embedder():
    from kgrag.extractors.embed import load_embedder

    return load_embedder()


def test_dense_finds_a_paraphrase(embedder):
    # no content word shared with the passage text except via meaning
    questions = [_question("Which insects produce a sweet food from blossoms?", ["p7"]),
                 _question("What famous landmark made of metal stands in France's capital?",
                           ["p0"])]
    rankings, latencies = dense_bruteforce_rankings(PASSAGES, questions, embedder, k=2)
    assert [r[0] for r in rankings] == ["p7", "p0"]
    assert len(latencies) == 2


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture()
def dataset(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write(src / "corpus.jsonl",
           [{"id": f"c{i}", "title": f"T{i}", "text": f"text {i}"} for i in range(30)])
    _write(src / "questions.jsonl", [
        {"id": "q0", "question": "?", "answer": "a", "supporting": ["c25", "c3"]},
        {"id": "q1", "question": "?", "answer": "a", "supporting": ["c10", "c11", "c12"]},
        {"id": "q2", "question": "?", "answer": "a", "supporting": ["c29", "c3"]},
        {"id": "q3", "question": "?", "answer": "a", "supporting": ["c20", "c21"]},
    ])
    return src


def test_load_with_limit(dataset):
    assert [p.id for p in load_corpus(dataset, limit=2)] == ["c0", "c1"]
    questions = load_questions(dataset)
    assert len(questions) == 4
    assert questions[1].supporting == ["c10", "c11", "c12"]


def test_sample_keeps_questions_consistent(dataset, tmp_path):
    out = sample(dataset, 6, tmp_path / "out")
    corpus_ids = {p.id for p in load_corpus(out)}
    questions = load_questions(out)
    assert len(corpus_ids) == 6
    # q0 (2) + q1 (3) + q2 (1 new) fill 6; q3 no longer fits
    assert [q.id for q in questions] == ["q0", "q1", "q2"]
    assert all(set(q.supporting) <= corpus_ids for q in questions)


def test_sample_fills_with_distractors(dataset, tmp_path):
    out = sample(dataset, 20, tmp_path / "out")
    corpus = load_corpus(out)
    questions = load_questions(out)
    assert len(corpus) == 20
    assert len(questions) == 4
    supporting = {s for q in questions for s in q.supporting}
    assert len({p.id for p in corpus} - supporting) == 20 - len(supporting)


def test_sample_too_small_for_any_question(dataset, tmp_path):
    with pytest.raises(ValueError, match="fit"):
        sample(dataset, 1, tmp_path / "out")


def test_bad_jsonl_names_file_and_line(tmp_path):
    (tmp_path / "corpus.jsonl").write_text(
        '{"id": "a", "title": "t", "text": "x"}\n\n{"id": "b", "title": \n', encoding="utf-8"
    )
    with pytest.raises(BenchDataError, match=r"corpus\.jsonl:3: invalid JSON"):
        load_corpus(tmp_path)


def test_missing_field_and_empty_supporting_are_reported(tmp_path):
    (tmp_path / "corpus.jsonl").write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(BenchDataError, match=r"corpus\.jsonl:1: field 'title'"):
        load_corpus(tmp_path)
    _write(tmp_path / "questions.jsonl",
           [{"id": "q", "question": "?", "answer": "a", "supporting": []}])
    with pytest.raises(BenchDataError, match=r"questions\.jsonl:1: field 'supporting'"):
        load_questions(tmp_path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"questions\.jsonl"):
        load_questions(tmp_path)
