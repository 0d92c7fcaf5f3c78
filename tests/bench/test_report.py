import json

import pytest

from kgrag.bench.report import markdown_table, plot_recall, write_json

MODES = {
    "dense": {
        "recall@2": 0.625, "recall@5": 0.785, "all_found@2": 0.3, "all_found@5": 0.61,
        "mrr": 0.7123, "ndcg@10": 0.6456, "latency_ms": {"p50": 12.34, "p95": 56.78},
    },
    "bm25": {
        "recall@2": 0.545, "recall@5": 0.755, "all_found@2": 0.2, "all_found@5": 0.55,
        "mrr": 0.6, "ndcg@10": 0.5, "latency_ms": {"p50": 1.0, "p95": 2.0},
    },
}


def test_markdown_table_has_header_rows_and_formatted_numbers():
    table = markdown_table(MODES, [2, 5])
    lines = table.strip().splitlines()
    assert lines[0] == "| mode | R@2 | R@5 | AllFound@5 | MRR | NDCG@10 | p50 ms | p95 ms |"
    assert len(lines) == 4
    assert lines[2] == "| dense | 62.5 | 78.5 | 61.0 | 0.712 | 0.646 | 12.3 | 56.8 |"
    assert lines[3].startswith("| bm25 | 54.5 | 75.5 | 55.0 |")


def test_markdown_table_names_mode_missing_a_metric():
    with pytest.raises(ValueError, match=r"'bm25'.*recall@10"):
        markdown_table({"bm25": MODES["bm25"]}, [10])


def test_write_json_round_trips_unicode(tmp_path):
    path = tmp_path / "sub" / "result.json"
    result = {"dataset": "中文", "modes": MODES}
    write_json(result, path)
    assert json.loads(path.read_text(encoding="utf-8")) == result
    assert "中文" in path.read_text(encoding="utf-8")
    assert list(path.parent.iterdir()) == [path]


def test_plot_recall_writes_png(tmp_path):
    path = tmp_path / "recall.png"
    assert plot_recall(MODES, [2, 5], path) == path
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000
