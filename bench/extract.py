"""`kgrag bench extract`: extraction quality on the labelled sets, throughput on MuSiQue.

Quality: `bench/data/extract_{en,zh}.jsonl`, one sentence per line,
`{"text", "entities": [[text, type]], "triples": [[arg0, predicate, arg1]]}` (an argument
may be null). The gold follows kgrag's conventions: English predicates are verb lemmas
("found"), "X is the N of Y" / "X, the N of Y" is (X, "N of", Y), and a verb without an
object takes its first prepositional object as ARG1 ("worked at CERN" -> (., work, CERN));
time and place modifiers are not arguments.

- entities: a predicted entity is right when its normalised key equals a gold one
  (`normalize_key`); "typed" also needs the coarse class to agree (PERSON, ORG, PLACE =
  GPE/LOC/FAC, OTHER).
- triples: one-to-one matching per sentence; the predicate matches on its first word
  (English lemma; a particle or preposition may follow) or by containment (Chinese 出生 /
  出生于), and each argument when one normalised text contains the other (both null
  counts as a match).

Keyphrases (Chinese): P/R/F1@k and passages/s of kgrag's jieba extractor and E5-ranked
alternatives on `bench/data/keyphrases_zh.jsonl` (see `kgrag.bench.keyphrases`).

Throughput: the first `passages` passages of the MuSiQue corpus (title + text, as the
benchmark ingests them) through parse, chunk (fixed), embed and annotate (entities,
keyphrases, triples), in batches as the ingest flow runs them; models are loaded and
warmed up before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgrag.core.types import ChunkAnnotations, Document, Lang
from kgrag.extractors.annotator import Annotator, build_annotator
from kgrag.extractors.chunking import FixedChunker
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.parse import parse_text

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "musique-dev"
TARGET_PASSAGES_PER_S = 15.0
_PLACE = {"GPE", "LOC", "FAC"}

Triple3 = tuple[str | None, str, str | None]


def coarse_type(label: str) -> str:
    if label in ("PERSON", "ORG"):
        return label
    return "PLACE" if label in _PLACE else "OTHER"


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f1, 4)}


def arg_matches(gold: str | None, pred: str | None, lang: Lang) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    g, p = normalize_key(gold), normalize_key(pred)
    if not g or not p:
        return False
    if lang == "zh":
        return g in p or p in g
    return f" {g} " in f" {p} " or f" {p} " in f" {g} "


def predicate_matches(gold: str, pred: str, lang: Lang) -> bool:
    g, p = gold.strip().lower(), pred.strip().lower()
    if lang == "zh":
        return bool(g and p) and (g in p or p in g)
    return bool(g and p) and g.split()[0] == p.split()[0]


def match_triples(
    gold: Sequence[Triple3], pred: Sequence[Triple3], lang: Lang, *, predicate_only: bool = False
) -> int:
    """Number of gold triples matched one-to-one by predicted ones."""
    used: set[int] = set()
    matched = 0
    for g0, g_pred, g1 in gold:
        for i, (p0, p_pred, p1) in enumerate(pred):
            if i in used or not predicate_matches(g_pred, p_pred, lang):
                continue
            if predicate_only or (arg_matches(g0, p0, lang) and arg_matches(g1, p1, lang)):
                used.add(i)
                matched += 1
                break
    return matched


def load_labelled(lang: Lang) -> list[dict[str, Any]]:
    path = DATA_DIR / f"extract_{lang}.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_quality(
    annotator: Annotator, lang: Lang, rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Entity and triple P/R/F1 of one annotator on one labelled set."""
    rows = load_labelled(lang) if rows is None else rows
    docs = [parse_text(r["text"], path=f"bench/extract_{lang}/{i}", title="")
            for i, r in enumerate(rows)]
    chunker = FixedChunker(max_chars=4000, overlap_chars=0)
    annotations = annotator.annotate([(d, chunker.chunk(d), None) for d in docs])
    counts = dict.fromkeys(("ent_tp", "typed_tp", "ent_pred", "ent_gold", "tri_tp", "pred_tp",
                            "tri_pred", "tri_gold"), 0)
    for row, ann in zip(rows, _per_document(docs, annotations), strict=True):
        gold_ents = {normalize_key(t): coarse_type(label) for t, label in row["entities"]}
        pred_ents = {e.key: coarse_type(e.type) for e in ann.entities}
        counts["ent_tp"] += len(gold_ents.keys() & pred_ents.keys())
        counts["typed_tp"] += sum(1 for k, v in pred_ents.items() if gold_ents.get(k) == v)
        counts["ent_pred"] += len(pred_ents)
        counts["ent_gold"] += len(gold_ents)
        gold = [(a0, pred, a1) for a0, pred, a1 in row["triples"]]
        predicted = [(t.arg0, t.predicate, t.arg1) for t in ann.triples]
        counts["tri_tp"] += match_triples(gold, predicted, lang)
        counts["pred_tp"] += match_triples(gold, predicted, lang, predicate_only=True)
        counts["tri_pred"] += len(predicted)
        counts["tri_gold"] += len(gold)
    entities = prf(counts["ent_tp"], counts["ent_pred"], counts["ent_gold"])
    entities["typed_f1"] = prf(counts["typed_tp"], counts["ent_pred"], counts["ent_gold"])["f1"]
    triples = prf(counts["tri_tp"], counts["tri_pred"], counts["tri_gold"])
    triples["predicate_f1"] = prf(counts["pred_tp"], counts["tri_pred"], counts["tri_gold"])["f1"]
    return {
        "backend": annotator.backends[lang],
        "triples_backend": annotator.backends[f"triples_{lang}"],
        "sentences": len(rows),
        "entities": entities,
        "triples": triples,
    }


def _per_document(
    docs: list[Document], annotations: list[ChunkAnnotations]
) -> list[ChunkAnnotations]:
    """Merge the chunks of each document (a labelled sentence is one chunk, normally)."""
    merged = {d.id: ChunkAnnotations(chunk_id=d.id) for d in docs}
    for ann in annotations:
        target = merged[ann.chunk_id.rsplit(":", 1)[0]]
        target.entities.extend(e for e in ann.entities if e not in target.entities)
        target.triples.extend(ann.triples)
    return [merged[d.id] for d in docs]


def measure_throughput(
    annotator: Annotator, passages: int, corpus: Path, batch: int = 64
) -> dict[str, Any]:
    """Seconds and passages/s per stage on the first `passages` corpus passages.

    Embedding and annotation run as `Annotator.embed_and_annotate` (the embedding model on
    a worker thread beside the spaCy parse), so their wall time is one stage; the
    breakdown lists each sub-stage's busy time, which overlap.
    """
    from kgrag.bench.data import load_corpus

    rows = load_corpus(corpus, limit=passages)
    chunker = FixedChunker()
    warm = [parse_text(f"{p.title}\n{p.text}", path=p.id, title=p.title) for p in rows[:4]]
    annotator.embed_and_annotate(chunker, [(d, chunker.chunk(d)) for d in warm])
    annotator.timings.clear()
    seconds = dict.fromkeys(("parse", "chunk", "embed + annotate"), 0.0)
    n_chunks = 0
    for first in range(0, len(rows), batch):
        t0 = time.perf_counter()
        docs = [
            parse_text(f"{p.title}\n{p.text}", path=f"musique/{p.id}", title=p.title)
            for p in rows[first : first + batch]
        ]
        t1 = time.perf_counter()
        items = [(d, chunker.chunk(d)) for d in docs]
        t2 = time.perf_counter()
        annotator.embed_and_annotate(chunker, items)
        t3 = time.perf_counter()
        seconds["parse"] += t1 - t0
        seconds["chunk"] += t2 - t1
        seconds["embed + annotate"] += t3 - t2
        n_chunks += sum(len(chunks) for _, chunks in items)
    n = len(rows)
    total = sum(seconds.values())
    return {
        "passages": n,
        "chunks": n_chunks,
        "batch": batch,
        "stages": {k: _rate(v, n) for k, v in seconds.items()},
        "busy": {k: _rate(v, n) for k, v in annotator.timings.items()},
        "end_to_end": _rate(total, n),
        "target_passages_per_s": TARGET_PASSAGES_PER_S,
    }


def _rate(seconds: float, n: int) -> dict[str, float]:
    per_s = round(n / seconds, 1) if seconds else 0.0
    return {"seconds": round(seconds, 3), "passages_per_s": per_s}


def run_extract_bench(
    out: Path | None = None,
    *,
    passages: int = 200,
    corpus: Path | None = None,
    hanlp_ner: str | None = None,
    embed_model: str | None = None,
    keyphrases: bool = True,
) -> dict[str, Any]:
    """Quality per language and backend, then Chinese keyphrases, then throughput; prints
    the tables, writes JSON to `out` when given and returns the result. `hanlp_ner` adds a
    Chinese row for a local HanLP NER model; `keyphrases=False` skips the keyphrase part
    (which loads the multilingual E5 model), `passages=0` the throughput part."""
    import torch

    from kgrag.extractors.embed import DEFAULT_EMBED_MODEL, load_embedder

    embedder = load_embedder(embed_model or DEFAULT_EMBED_MODEL)
    quality_annotator = build_annotator(embedder=embedder, keyphrases=False)
    quality = {
        "en": score_quality(quality_annotator, "en"),
        "zh": score_quality(quality_annotator, "zh"),
    }
    if hanlp_ner is not None:
        hanlp = build_annotator(embedder=embedder, hanlp_ner=hanlp_ner, keyphrases=False)
        quality["zh_hanlp"] = score_quality(hanlp, "zh")
    result: dict[str, Any] = {
        "quality": quality,
        "env": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                "embed_model": embedder.name},
    }
    if keyphrases:
        from kgrag.bench.keyphrases import default_extractors, score_keyphrases
        from kgrag.extractors.embed import MULTILINGUAL_EMBED_MODEL

        e5 = load_embedder(MULTILINGUAL_EMBED_MODEL)
        result["keyphrases"] = score_keyphrases(default_extractors(e5), quality_annotator.top_n)
    if passages > 0:
        annotator = build_annotator(embedder=embedder)
        result["throughput"] = measure_throughput(annotator, passages, corpus or DEFAULT_CORPUS)
    print(render(result))
    if out is not None:
        from kgrag.bench.report import write_json

        write_json(result, out)
    return result


def render(result: dict[str, Any]) -> str:
    lines = [
        "| set | entity backend | triple backend | n | ent P | ent R | ent F1 | typed F1 "
        "| triple P | triple R | triple F1 | predicate F1 |",
        "|" + "---|" * 12,
    ]
    for name, q in result["quality"].items():
        e, t = q["entities"], q["triples"]
        lines.append(
            f"| {name} | {q['backend']} | {q['triples_backend']} | {q['sentences']} "
            f"| {e['p']:.2f} | {e['r']:.2f} | {e['f1']:.2f} | {e['typed_f1']:.2f} "
            f"| {t['p']:.2f} | {t['r']:.2f} | {t['f1']:.2f} | {t['predicate_f1']:.2f} |"
        )
    if "throughput" in result:
        tp = result["throughput"]
        lines += [
            "",
            f"Throughput on {tp['passages']} MuSiQue passages ({tp['chunks']} chunks, "
            f"batches of {tp['batch']}, {result['env']['cpus']} CPUs):",
            "",
            "| stage | seconds | passages/s |",
            "|---|---|---|",
        ]
        rows = [*tp["stages"].items()]
        rows += [(f"  busy: {k}", v) for k, v in tp["busy"].items()]
        rows.append(("end to end", tp["end_to_end"]))
        for name, rate in rows:
            lines.append(f"| {name} | {rate['seconds']:.2f} | {rate['passages_per_s']:.1f} |")
        fast = tp["end_to_end"]["passages_per_s"] >= TARGET_PASSAGES_PER_S
        lines.append(
            f"\nEnd to end {'meets' if fast else 'misses'} the target of "
            f"{TARGET_PASSAGES_PER_S:.0f} passages/s."
        )
    if "keyphrases" in result:
        from kgrag.bench.keyphrases import render_keyphrases

        lines += ["", *render_keyphrases(result["keyphrases"])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    parser.add_argument("--passages", type=int, default=200, help="throughput passages (0: skip)")
    parser.add_argument("--corpus", type=Path, default=None, help="folder with corpus.jsonl")
    parser.add_argument("--hanlp-ner", default=None, help="a local HanLP NER model to score too")
    parser.add_argument("--embed-model", default=None, help="embedding model (default bundled)")
    parser.add_argument("--no-keyphrases", action="store_true",
                        help="skip the Chinese keyphrase comparison")
    args = parser.parse_args(argv)
    return run_extract_bench(
        args.out, passages=args.passages, corpus=args.corpus, hanlp_ner=args.hanlp_ner,
        embed_model=args.embed_model, keyphrases=not args.no_keyphrases,
    )


if __name__ == "__main__":
    main()
