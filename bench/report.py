"""Benchmark output: a markdown table, a JSON file and a recall@k chart."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _metric(name: str, metrics: dict[str, Any], key: str) -> Any:
    try:
        return metrics[key]
    except KeyError:
        raise ValueError(f"mode {name!r} has no {key!r} metric") from None


def markdown_table(modes: dict[str, dict], ks: list[int]) -> str:
    """One row per mode (baselines included) in `summarize` shape.

    Recall@k and all-found are percentages with one decimal; MRR and NDCG@10 stay in
    0..1 with three decimals; latencies are milliseconds.
    """
    if not ks:
        raise ValueError("ks must not be empty")
    top = max(ks)
    header = ["mode", *(f"R@{k}" for k in ks), f"AllFound@{top}", "MRR", "NDCG@10"]
    header += ["p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in modes.items():
        latency = _metric(name, metrics, "latency_ms")
        cells = [name]
        cells += [f"{100 * _metric(name, metrics, f'recall@{k}'):.1f}" for k in ks]
        cells.append(f"{100 * _metric(name, metrics, f'all_found@{top}'):.1f}")
        cells.append(f"{_metric(name, metrics, 'mrr'):.3f}")
        cells.append(f"{_metric(name, metrics, 'ndcg@10'):.3f}")
        cells += [f"{latency['p50']:.1f}", f"{latency['p95']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_json(result: dict, path: Path) -> None:
    """Write UTF-8 JSON, replacing `path` only once the whole file is written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def plot_recall(
    modes: dict[str, dict], ks: list[int], path: Path, title: str = "Recall@k"
) -> Path:
    """Save a PNG line chart of recall@k (percent) per mode; returns `path`.

    Draws on a bare Agg canvas rather than pyplot, so no global backend or figure state
    leaks into the calling process.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    xs = sorted(ks)
    fig = Figure(figsize=(6.4, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, metrics in modes.items():
        ys = [100 * _metric(name, metrics, f"recall@{k}") for k in xs]
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(k) for k in xs])
    ax.minorticks_off()
    ax.set_ylim(0, 100)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("recall@k (%)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
