"""The benchmark runners end to end on a 20-passage sample (real flow, stores, models)."""

import json
from pathlib import Path

import pytest

from kgrag.bench.answers import run_answers
from kgrag.bench.graph import render, run_graph_bench
from kgrag.bench.retrieval import run_retrieval
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "hotpot-sample"


def test_retrieval_bench_writes_the_documented_json_and_chart(
    tmp_path: Path, falkordb_server, prefect_harness
):
    settings = make_settings(tmp_path / "home", falkordb_server)
    out = tmp_path / "r.json"
    result = run_retrieval(SAMPLE, ks=[1, 2, 5], out=out, settings=settings)
    saved = json.loads(out.read_text())
    assert saved["dataset"] == "hotpot-sample"
    assert saved["ingest"]["passages"] == 20 and saved["ingest"]["passages_per_s"] > 0
    assert "embed+annotate" in saved["ingest"]["stages"]
    assert set(saved["modes"]) == {"dense", "keyword", "hybrid", "graph", "fused"}
    assert set(saved["baselines"]) == {"bm25", "dense_bruteforce"}
    for metrics in [*saved["modes"].values(), *saved["baselines"].values()]:
        assert 0.0 <= metrics["recall@1"] <= metrics["recall@2"] <= metrics["recall@5"] <= 1.0
        assert {"all_found@5", "mrr", "ndcg@10", "latency_ms"} <= set(metrics)
    # On 20 passages the supporting ones are easy to find: a broken pipeline shows here.
    assert saved["modes"]["dense"]["recall@5"] >= 0.5
    questions = {(q["id"], q["mode"]) for q in saved["questions"]}
    assert len(questions) == 5 * len({q["id"] for q in saved["questions"]})
    assert Path(result["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| fused |" in result["table"]

    again = run_retrieval(SAMPLE, modes=["dense"], ks=[1], settings=settings)
    assert again["ingest"]["indexed"] == 0  # reused: the corpus is unchanged


def test_graph_and_answer_benches(tmp_path: Path, falkordb_server, prefect_harness):
    settings = make_settings(tmp_path / "home", falkordb_server)
    graph = run_graph_bench(SAMPLE, limit=3, settings=settings)
    assert graph["write"]["mentions"] == 10_000 and graph["write"]["rows_per_s"] > 0
    assert graph["write"]["mention_edges"] == 10_000
    assert graph["sampling"]["questions"] == 3
    assert "sampling_plus_ppr_ms" in render(graph)

    answers = run_answers(SAMPLE, limit=2, settings=settings, out=tmp_path / "a.json")
    assert answers["questions"] == 2 and answers["answer_style"] == settings.answer_style
    assert json.loads((tmp_path / "a.json").read_text())["splits"] == answers["splits"]
    rows = answers["answers"]
    assert [r["split"] for r in rows] == ["answerable"] * 2 + ["unanswerable"] * 2
    assert all(row["answer"] and row["evidence"] for row in rows)
    for split in answers["splits"].values():
        assert 0.0 <= split["token_f1"] <= 1.0 and 0.0 <= split["evidence_hit"] <= 1.0
        assert split["cites_written"] >= split["cites_supporting"]
    # the unanswerable workspace lacks the supporting passages: nothing can cite them
    assert not any(r["cites_supporting"] for r in rows if r["split"] == "unanswerable")
    assert answers["splits"]["unanswerable"]["cites_supporting"] == 0.0
    assert all(-1.0 <= r["support"] <= 1.0 for r in rows)
    cal = answers["calibration"]
    assert 0.0 <= cal["refuses_answerable"] <= cal["refuses_unanswerable"] <= 1.0
    assert answers["support"]["answerable"]["p10"] <= answers["support"]["answerable"]["p90"]

    quick = run_answers(SAMPLE, limit=2, settings=settings, llm=False)  # both reused
    assert quick["answer_style"] is None and "token_f1" not in quick["splits"]["answerable"]
    assert [r["evidence"] for r in quick["answers"]] == [r["evidence"] for r in rows]
