"""`kgrag bench scale` output: markdown tables and a chart against workspace size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render(result: dict[str, Any]) -> str:
    """A cost table (ingest, memory, disk, re-ingest, restart) and a retrieval table
    (p50/p95 ms and R@5 per mode), one row per size."""
    steps = result["sizes"]
    cost = [
        "| passages | ingest passages/s | peak RSS MB | graph MB | vectors MB "
        "| no-op re-ingest s | restart s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        cost.append(
            f"| {s['passages']} | {s['ingest_passages_per_s']:.1f} | {_mb(s['rss_mb'])} "
            f"| {_mb(s['disk_mb']['graph'])} | {_mb(s['disk_mb']['vectors'])} "
            f"| {s['noop_reingest_s']:.1f} | {s['restart_s']:.1f} |"
        )
    modes = list(steps[0]["modes"]) if steps else []
    header = "| passages | " + " | ".join(f"{m} p50 / p95 ms | {m} R@5" for m in modes) + " |"
    retrieval = [header, "|" + "---|" * (1 + 2 * len(modes))]
    for s in steps:
        cells = [str(s["passages"])]
        for m in modes:
            latency = s["modes"][m]["latency_ms"]
            cells.append(f"{latency['p50']:.1f} / {latency['p95']:.1f}")
            cells.append(f"{100 * s['modes'][m]['recall@5']:.1f}")
        retrieval.append("| " + " | ".join(cells) + " |")
    return "\n".join(cost) + "\n\n" + "\n".join(retrieval) + "\n"


def plot_scale(result: dict[str, Any], path: Path) -> Path:
    """Save a PNG: retrieval latency per mode (p50 solid, p95 dashed) and ingest rate,
    against workspace size; returns `path`. A bare Agg canvas, as `report.plot_recall`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = result["sizes"]
    sizes = [s["passages"] for s in steps]
    fig = Figure(figsize=(10, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    latency, ingest = fig.subplots(1, 2)
    for mode in steps[0]["modes"] if steps else []:
        p50 = [s["modes"][mode]["latency_ms"]["p50"] for s in steps]
        p95 = [s["modes"][mode]["latency_ms"]["p95"] for s in steps]
        (line,) = latency.plot(sizes, p50, marker="o", label=f"{mode} p50")
        latency.plot(sizes, p95, linestyle="--", color=line.get_color(), label=f"{mode} p95")
    latency.set_yscale("log")  # keyword answers in ms, graph modes in tens or hundreds
    latency.set_ylabel("retrieval latency (ms)")
    latency.set_title("Retrieval latency")
    latency.legend(loc="upper left", fontsize="x-small", ncol=2)
    ingest.plot(sizes, [s["ingest_passages_per_s"] for s in steps], marker="o")
    ingest.set_ylim(bottom=0)
    ingest.set_ylabel("ingest (passages/s)")
    ingest.set_title("Ingest rate of each step")
    for ax in (latency, ingest):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("workspace size (passages)")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
