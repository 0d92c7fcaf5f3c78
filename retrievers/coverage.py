"""Question coverage: the first places chosen so that together they cover the question.

A multi-hop question spreads its words over several passages ("How many Publix stores
are in the state that borders ... where Hello Love's performer lived?" needs the Publix
passage, the song's and the performer's). A ranking scores each passage alone, so its
top five can hold two passages about Publix and none about the performer. Here the
first hit stays, and each next place goes to the candidate with the best
`1 / (prior_k + rank) + weight * (share of the question's words it adds)`, where the
share counts only words no chosen passage has yet: a passage repeating what is covered
keeps its rank prior, one that brings the question's other words moves up. No corpus
statistics are needed (every question word counts the same), so it works on any vector
backend.

Fused retrieval (after title bridges), R@2 / R@5 / all-found@5: musique-dev 54.3 / 77.2
/ 55 -> 53.6 / 79.4 / 58, hotpotqa-dev 76.5 / 92.5 / 88 -> 81.0 / 95.0 / 92; cmrc-trial
R@1 / R@5 stay 99.0 / 100. Weights 0.1 to 0.3 all gain on both English sets; words
weighted by IDF did no better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kgrag.core.text import HAN_RUN
from kgrag.core.types import Hit
from kgrag.retrievers.sparse import latin_words, tokenize


@dataclass(frozen=True)
class CoverageConfig:
    weight: float = 0.15  # of the question's new words against the rank prior; 0: off
    prior_k: int = 5  # rank prior 1 / (prior_k + rank), ranks from 1
    keep: int = 1  # leading hits that stay where they are
    depth: int = 10  # leading hits reordered (the rest keep their places)


def cover(question: str, hits: Sequence[Hit], config: CoverageConfig | None = None) -> list[Hit]:
    """`hits` (hydrated: their title and text are read) with the first `config.depth`
    reordered for coverage, greedily, so the first places do not depend on how many hits
    the caller asked for; the rest follow as they were."""
    cfg = config or CoverageConfig()
    asked = set(tokenize(question))
    head = list(hits[: cfg.depth])
    if cfg.weight <= 0 or not asked or len(head) <= cfg.keep:
        return list(hits)
    chinese = {w for w in asked if HAN_RUN.match(w)}
    words = [_present(asked, chinese, f"{h.title}\n{h.text}") for h in head]
    chosen = list(range(cfg.keep))
    covered = set().union(*(words[i] for i in chosen))
    left = list(range(cfg.keep, len(head)))
    while left:
        best = max(
            left,
            key=lambda i: (
                1.0 / (cfg.prior_k + i + 1) + cfg.weight * len(words[i] - covered) / len(asked)
            ),
        )
        chosen.append(best)
        covered |= words[best]
        left.remove(best)
    return [head[i] for i in chosen] + list(hits[cfg.depth :])


def _present(asked: set[str], chinese: set[str], text: str) -> set[str]:
    """The question's words (`asked`, of which `chinese` are Chinese) that `text` has:
    English words as words, Chinese ones as substrings (cutting ten passages with jieba
    cost more than the rest of a query)."""
    found = asked & set(latin_words(text))
    found.update(w for w in chinese if w in text)
    return found
