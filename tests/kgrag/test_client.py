"""Client: retrieval and cited answers over the ingested example corpus, real tiny GGUF."""

import pytest

from kgrag.client import Client
from kgrag.core.errors import ConfigError, ModelNotFoundError, WorkspaceNotFoundError
from kgrag.core.settings import Settings
from kgrag.generation.answer import cited_numbers
from kgrag.generation.prompts import REFUSAL
from kgrag.runtime import get_runtime

pytestmark = pytest.mark.slow


def test_retrieve_ranks_the_right_document_first(demo_client: Client):
    hits = demo_client.retrieve("Who discovered polonium and radium?", k=3, mode="dense")
    assert len(hits) == 3
    assert hits[0].path.endswith("marie-curie.md")
    assert hits[0].score >= hits[1].score


def test_retrieve_chinese_question(demo_client: Client):
    hits = demo_client.retrieve("谁发现了青蒿素？", k=2, mode="hybrid")
    assert any(h.path.endswith(("tu-youyou.md", "qinghaosu.txt")) for h in hits)


def test_ask_cites_ingested_chunks(demo_client: Client):
    streamed: list[str] = []
    answer = demo_client.ask("Who discovered polonium and radium?", on_token=streamed.append)
    assert answer.text and "".join(streamed).strip() == answer.text
    assert answer.method == "llm" and answer.sources, answer.text
    graph_chunks = get_runtime(demo_client.settings, demo_client.workspace).graph.chunk_ids()
    assert all(s.chunk_id in graph_chunks and s.path for s in answer.sources)
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    # cited: exactly the [n] the model wrote
    assert [c.n for c in answer.citations] == cited_numbers(answer.text, len(answer.sources))
    assert all(c in answer.sources for c in answer.citations)
    assert answer.timings["total_ms"] > 0 and "generate_ms" in answer.timings


def test_evidence_answer_needs_no_model(demo_client: Client):
    settings = demo_client.settings.model_copy(update={"llm_model": "/no/model.gguf"})
    client = Client(workspace=demo_client.workspace, settings=settings)
    streamed: list[str] = []
    answer = client.ask("Where was Marie Curie born?", answer="evidence", on_token=streamed.append)
    assert answer.method == "evidence" and not answer.refused
    assert "Warsaw" in answer.text.split("[")[0], answer.text  # the first sentence says it
    assert streamed == [answer.text]
    assert answer.citations and all(c in answer.sources for c in answer.citations)
    assert answer.citations[0].path.endswith("marie-curie.md")
    assert "evidence_ms" in answer.timings and "generate_ms" not in answer.timings
    with pytest.raises(ConfigError, match="unknown answer 'poem'"):
        client.ask("Where was Marie Curie born?", answer="poem")


def test_refuse_below_refuses_without_the_model(demo_client: Client):
    question = "Where was Marie Curie born?"
    open_door = demo_client.settings.model_copy(update={"refuse_below": None})
    score = (
        Client(workspace=demo_client.workspace, settings=open_door)
        .ask(question, answer="evidence")
        .support
    )
    assert score is not None and 0.5 < score <= 1.0  # the corpus has a passage on her
    far = Client(workspace=demo_client.workspace, settings=open_door).ask(
        "What is the airspeed velocity of an unladen swallow?", answer="evidence"
    )
    assert far.support is not None and far.support < score - 0.2
    strict = demo_client.settings.model_copy(
        update={"refuse_below": score + 0.01, "llm_model": "/no/model.gguf"}
    )
    for method in ("llm", "evidence"):
        answer = Client(workspace=demo_client.workspace, settings=strict).ask(
            question, answer=method
        )
        assert answer.refused and answer.text == REFUSAL["en"] and answer.method == method
        assert answer.citations == [] and answer.sources == [] and answer.support == score
        assert "support_ms" in answer.timings and "generate_ms" not in answer.timings
    lenient = demo_client.settings.model_copy(update={"refuse_below": score - 0.01})
    answer = Client(workspace=demo_client.workspace, settings=lenient).ask(
        question, answer="evidence"
    )
    assert not answer.refused and answer.support == score


def test_unknown_workspace_is_a_clear_error_before_any_store_opens(tmp_path):
    settings = Settings(home=tmp_path, falkordb_port=1, falkordb_autostart=False)
    with pytest.raises(WorkspaceNotFoundError, match="kgrag ingest"):
        Client(workspace="never-ingested", settings=settings).retrieve("x")


def test_status_reads_counts_without_loading_a_model(demo_client: Client):
    # Its own runtime (a settings object no other test uses), so nothing is cached yet.
    settings = demo_client.settings.model_copy(update={"top_k": 11})
    client = Client(workspace=demo_client.workspace, settings=settings)
    info = client.status()
    assert info["graph"]["counts"]["Document"] > 0 and info["vectors"]["units"] > 0
    # "auto" became a model at the first ingestion: the corpus has Chinese files.
    assert settings.embed_model == "auto"
    assert info["config"]["embed_model"] == "multilingual-e5-small"
    loaded = get_runtime(settings, demo_client.workspace).__dict__
    assert not {"embedder", "annotator", "analyzer", "llm", "retriever"} & set(loaded)


def test_fusion_and_sampler_settings_reach_retrieval(demo_client: Client):
    question = "Where did Pierre Curie teach?"
    dense = [h.chunk_id for h in demo_client.retrieve(question, k=3, mode="dense")]
    only_dense = demo_client.settings.model_copy(
        update={
            "fusion": "weighted",
            "fusion_weights": {"dense": 1.0, "keyword": 0.0, "graph": 0.0},
        }
    )
    fused = Client(workspace=demo_client.workspace, settings=only_dense).retrieve(question, k=3)
    assert [h.chunk_id for h in fused] == dense

    rwr = demo_client.settings.model_copy(update={"graph_sampler": "rwr"})
    walked = Client(workspace=demo_client.workspace, settings=rwr).search(question, 3, "graph")
    assert walked.hits and walked.seeds
    wrong = demo_client.settings.model_copy(update={"graph_sampler": "bfs"})
    with pytest.raises(ConfigError, match="unknown graph sampler 'bfs'"):
        Client(workspace=demo_client.workspace, settings=wrong).retrieve(question)


def test_hanlp_srl_setting_reaches_the_annotator(demo_client: Client, tmp_path):
    settings = demo_client.settings.model_copy(
        update={"home": tmp_path, "hanlp_srl": str(tmp_path / "no-srl-model")}
    )
    runtime = get_runtime(settings, "srl", create=True)
    assert runtime.config.hanlp_srl == settings.hanlp_srl  # stored with the workspace
    with pytest.raises(ModelNotFoundError, match="no-srl-model"):
        _ = runtime.annotator
