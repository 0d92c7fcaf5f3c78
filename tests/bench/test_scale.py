"""`kgrag bench scale`: the growing corpus, and the runner end to end on a small one."""

import json
from itertools import islice
from pathlib import Path

import pytest

from kgrag.bench.data import load_corpus, load_questions
from kgrag.bench.scale import run_scale
from kgrag.bench.scale_report import render
from kgrag.bench.synth import growing_corpus, sentences
from kgrag.core.settings import Settings
from tests.conftest import make_settings

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "hotpot-sample"


def test_the_growing_corpus_answers_first_then_recombines_uncited_sentences():
    passages = load_corpus(SAMPLE)
    questions = load_questions(SAMPLE)[:3]
    corpus = list(islice(growing_corpus(passages, questions, seed=7), 300))
    supporting = list(dict.fromkeys(s for q in questions for s in q.supporting))
    assert [p.id for p in corpus[: len(supporting)]] == supporting
    assert {p.id for p in corpus[: len(passages)]} == {p.id for p in passages}
    assert len({p.id for p in corpus}) == 300

    uncited = [p for p in passages if p.id not in supporting]
    pool = {s for p in uncited for s in sentences(p.text)}
    titles = {p.title for p in uncited}
    made = corpus[len(passages) :]
    originals = {p.text for p in passages}
    for p in made:
        assert p.title in titles and p.text not in originals
        rest = p.text
        for sentence in sorted(pool, key=len, reverse=True):
            rest = rest.replace(sentence, "")
        assert not rest.strip(), rest  # whole sentences, none from a cited passage
    mean = sum(len(p.text) for p in made) / len(made)
    source_mean = sum(len(p.text) for p in uncited) / len(uncited)
    assert 0.7 * source_mean < mean < 1.3 * source_mean

    # one stream per seed: a shorter run is the start of a longer one, another seed differs
    assert list(islice(growing_corpus(passages, questions, seed=7), 100)) == corpus[:100]
    other = list(islice(growing_corpus(passages, questions, seed=8), 300))
    assert [p.text for p in other[len(passages) :]] != [p.text for p in made]


def test_sentences_cut_english_and_chinese():
    assert sentences("It rained. Then? It stopped!") == ["It rained.", "Then?", "It stopped!"]
    assert sentences("下雨了。停了！") == ["下雨了。", "停了！"]


def test_a_size_too_small_for_the_supporting_passages_is_refused(tmp_path: Path):
    """Refused before any store is opened."""
    with pytest.raises(ValueError, match="cannot hold the questions' supporting passages"):
        run_scale([SAMPLE], [5], questions=10, settings=Settings(home=tmp_path))


@pytest.mark.slow
def test_scale_bench_grows_one_workspace_and_writes_json_and_chart(
    tmp_path: Path, falkordb_server, prefect_harness
):
    settings = make_settings(tmp_path / "home", falkordb_server)
    out = tmp_path / "scale.json"
    logged: list[str] = []
    result = run_scale(
        [SAMPLE], [20, 30], questions=3, seed=1, out=out, settings=settings, log=logged.append
    )
    saved = json.loads(out.read_text())
    assert saved["sizes"] == result["sizes"] and saved["questions"] == 3
    first, second = saved["sizes"]
    assert (first["passages"], first["added"]) == (20, 20)
    assert (second["passages"], second["added"]) == (30, 10)  # grown, not re-ingested
    for step in saved["sizes"]:
        assert step["ingest_passages_per_s"] > 0 and step["noop_reingest_s"] > 0
        assert step["restart_s"] > 0 and step["rss_mb"] > 100  # the models alone
        assert step["disk_mb"]["graph"] > 0 and step["disk_mb"]["vectors"] > 0
        assert set(step["modes"]) == {"dense", "keyword", "graph", "fused"}
        for mode in step["modes"].values():
            assert 0 < mode["latency_ms"]["p50"] <= mode["latency_ms"]["p95"]
        assert step["modes"]["dense"]["recall@10"] >= 0.5  # supporting passages stay found
    # measured with Qdrant's files closed, their write-ahead log folded in: they grow
    assert second["disk_mb"]["vectors"] > first["disk_mb"]["vectors"]
    assert len(logged) == 2 and logged[1].startswith("30 passages: +10 at")
    assert Path(result["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = render(result)
    assert "| 20 | " in table and "| 30 | " in table and "fused p50 / p95 ms" in table

    resumed = run_scale([SAMPLE], [30, 34], questions=3, seed=1, settings=settings, resume=True)
    again, grown = resumed["sizes"]
    assert (again["passages"], again["added"]) == (30, 0)  # kept, not ingested again
    assert (grown["passages"], grown["added"]) == (34, 4)
