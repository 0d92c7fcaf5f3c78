"""The unanswerable split: dev questions asked of a workspace that lacks their answers.

The corpus minus the supporting passages of the questions to be asked is materialised as
its own folder and ingested into its own workspace (named after what it holds, like the
full corpus's, so a rerun reuses it). Asked there, a question still finds passages about
its neighbours (the other hops' entities, the distractors written to confuse), which is
what makes refusing hard, but none that says the answer.
"""

from __future__ import annotations

import hashlib
import shutil

from kgrag.bench.data import Question
from kgrag.bench.retrieval import BenchCorpus
from kgrag.core.settings import Settings

TAG = "unans"


def without_supporting(
    corpus: BenchCorpus, questions: list[Question], settings: Settings
) -> BenchCorpus:
    """`corpus` without the supporting passages of `questions`, which it keeps (to be
    asked), in a workspace of its own. The passage files are copied from the corpus's
    folder, so both workspaces hold the very same documents but the removed ones."""
    removed = {pid for q in questions for pid in q.supporting}
    passages = [p for p in corpus.passages if p.id not in removed]
    digest = hashlib.sha256("\x1e".join(p.id for p in passages).encode()).hexdigest()[:8]
    workspace = f"{corpus.workspace}-{TAG}-{digest}"
    folder = settings.home / "bench" / workspace
    folder.mkdir(parents=True, exist_ok=True)
    for p in passages:
        target = folder / f"{p.id}.md"
        if not target.exists():
            shutil.copyfile(corpus.folder / target.name, target)
    return BenchCorpus(f"{corpus.name}-{TAG}", passages, questions, folder, workspace)
