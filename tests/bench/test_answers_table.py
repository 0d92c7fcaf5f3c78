"""What `kgrag bench answers` prints, from a result of `run_answers`'s shape."""

from typing import Any

from kgrag.bench.cli import answers_table, support_line


def _result(llm: bool) -> dict[str, Any]:
    llm_part = {
        "exact_match": 0.05,
        "token_f1": 0.1234,
        "cites_written": 0.2,
        "cites_supporting": 0.15,
        "refused": 0.0,
        "latency_ms": {"p50": 5123.4},
    }
    splits = {
        "answerable": {"evidence_hit": 0.55, "evidence_refused": 0.0},
        "unanswerable": {"evidence_hit": 0.1, "evidence_refused": 0.4},
    }
    if llm:
        splits = {name: {**m, **llm_part} for name, m in splits.items()}
    return {
        "questions": 20,
        "answer_style": "short" if llm else None,
        "refuse_below": 0.45,
        "splits": splits,
        "support": {
            "answerable": {"p10": 0.5, "p25": 0.6, "p50": 0.7, "p75": 0.8, "p90": 0.9},
            "unanswerable": {"p10": 0.3, "p25": 0.35, "p50": 0.4, "p75": 0.45, "p90": 0.5},
        },
        "calibration": {
            "threshold": 0.47,
            "refuses_answerable": 0.05,
            "refuses_unanswerable": 0.6,
        },
        "refuse_below_rates": {"refuses_answerable": 0.0, "refuses_unanswerable": 0.55},
    }


def test_table_has_a_row_per_split_and_the_llm_columns_only_when_asked():
    lines = answers_table(_result(llm=True)).splitlines()
    assert lines[0] == (
        "| split | questions | exact_match | token_f1 | cites_written | cites_supporting "
        "| refused | evidence_hit | p50 ms |"
    )
    assert lines[2] == "| answerable | 20 | 5.0 | 12.3 | 20.0 | 15.0 | 0.0 | 55.0 | 5123 |"
    assert lines[3].startswith("| unanswerable | 20 |") and lines[3].endswith("| 10.0 | 5123 |")
    quick = answers_table(_result(llm=False)).splitlines()
    assert quick[0] == "| split | questions | evidence_hit |"
    assert quick[2:] == ["| answerable | 20 | 55.0 |", "| unanswerable | 20 | 10.0 |"]


def test_support_line_gives_both_distributions_and_both_thresholds():
    line = support_line(_result(llm=True))
    assert "answerable 0.500/0.700/0.900, unanswerable 0.300/0.400/0.500" in line
    assert "best threshold here 0.470 refuses 5.0% answerable, 60.0% unanswerable" in line
    assert line.endswith("KGRAG_REFUSE_BELOW=0.45 refuses 0.0% answerable, 55.0% unanswerable")
    assert "KGRAG_REFUSE_BELOW" not in support_line({**_result(llm=True), "refuse_below": None})
