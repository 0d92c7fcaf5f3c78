"""The passages of a growing benchmark corpus, for `kgrag bench scale`.

The shared benchmark sets hold a few thousand passages; a workspace of 100,000 needs more.
New passages are recombined from the sentences of the real ones: each takes the sentences
of a few source passages, shuffled, to about the length of its first source, and that
source's title. Whole sentences keep their entity mentions, lengths and vocabulary, so
extraction, the graph and both indexes see text of the real kind, but no new passage
repeats one.

The order is fixed: the supporting passages of the benchmark questions first (every size
can answer them), then the other real passages, then synthetic ones without end. The
synthetic ones draw only from passages those questions do not cite, so the supporting
passages keep their role and recall stays comparable across sizes. One random stream per
seed makes every size's corpus the start of every larger one's.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence

from kgrag.bench.data import Passage, Question

SOURCES_PER_PASSAGE = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def sentences(text: str) -> list[str]:
    """`text` cut after each sentence's final mark (English and Chinese)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _join(parts: Sequence[str]) -> str:
    return "".join(p if p.endswith(("。", "！", "？")) else p + " " for p in parts).strip()


def synthetic_passages(sources: Sequence[Passage], seed: int) -> Iterator[Passage]:
    """Passages `synth-<seed>-<n>` made of the sentences of `SOURCES_PER_PASSAGE` random
    `sources` (those with at least one sentence), without end. Each starts with one
    sentence of each of two sources, so that none copies a source."""
    pool = [(p, cut) for p in sources if (cut := sentences(p.text))]
    if len(pool) < 2:
        raise ValueError("recombining needs two source passages with sentences")
    rng = random.Random(seed)
    n = 0
    while True:
        picked = rng.sample(pool, min(SOURCES_PER_PASSAGE, len(pool)))
        tagged = [(i, s) for i, (_, cut) in enumerate(picked) for s in cut]
        rng.shuffle(tagged)
        other = next(j for j, (i, _) in enumerate(tagged) if i != tagged[0][0])
        tagged.insert(1, tagged.pop(other))
        mixed = [s for _, s in reversed(tagged)]  # popped from the end: the first two first
        target = len(picked[0][0].text)
        kept = [mixed.pop(), mixed.pop()]
        while mixed and abs(len(_join([*kept, mixed[-1]])) - target) < abs(
            len(_join(kept)) - target
        ):  # while the next sentence brings the length nearer the title source's
            kept.append(mixed.pop())
        yield Passage(f"synth-{seed}-{n:07d}", picked[0][0].title, _join(kept))
        n += 1


def growing_corpus(
    passages: Sequence[Passage], questions: Sequence[Question], seed: int
) -> Iterator[Passage]:
    """Every passage of `passages`, the questions' supporting ones first (in question
    order), then synthetic ones from the passages no question cites, without end."""
    by_id = {p.id: p for p in passages}
    missing = sorted({s for q in questions for s in q.supporting} - by_id.keys())
    if missing:
        raise ValueError(f"supporting passages not in the corpus: {missing[:5]}")
    supporting = list(dict.fromkeys(s for q in questions for s in q.supporting))
    yield from (by_id[s] for s in supporting)
    cited = set(supporting)
    yield from (p for p in passages if p.id not in cited)
    yield from synthetic_passages([p for p in passages if p.id not in cited], seed)
