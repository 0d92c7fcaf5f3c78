"""Typed records that travel between stages. Defined once; every stage imports them here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Lang = Literal["en", "zh"]


@dataclass(frozen=True)
class Document:
    """One parsed source file. `id` = hash(normalised path, content sha256)."""

    id: str
    path: str
    title: str
    lang: Lang
    text: str
    sha256: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A span of a document. `level` 0 = retrievable unit; `parent_id` links small units
    (level 1) to the level-0 chunk whose text the reader gets."""

    id: str
    doc_id: str
    idx: int
    text: str
    span: tuple[int, int]
    level: int = 0
    parent_id: str | None = None


@dataclass(frozen=True)
class Entity:
    """A named thing. `key` is the normalised name used to merge mentions across documents."""

    key: str
    name: str
    type: str
    lang: Lang


@dataclass(frozen=True)
class Mention:
    chunk_id: str
    entity_key: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Keyphrase:
    key: str
    text: str
    score: float


@dataclass(frozen=True)
class Triple:
    """A predicate-argument frame: ARG0 (agent) -predicate-> ARG1 (patient), with extra
    arguments/modifiers in `args` (e.g. ARG2, ARGM-TMP, ARGM-LOC)."""

    predicate: str
    arg0: str | None
    arg1: str | None
    args: dict[str, str]
    negated: bool
    chunk_id: str
    sentence: str
    span: tuple[int, int]


@dataclass
class ChunkAnnotations:
    chunk_id: str
    entities: list[Entity] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    keyphrases: list[Keyphrase] = field(default_factory=list)
    triples: list[Triple] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: the one hit type from the retrievers to the answer.

    A retriever fills `chunk_id`, `score` and `source` (the retriever, or retrievers
    joined by "+", that found it); hydration from the graph fills the rest, so a vector
    whose chunk is not in the graph (an interrupted write) never reaches a reader.
    """

    chunk_id: str
    score: float
    source: str
    doc_id: str = ""
    text: str = ""
    path: str = ""
    title: str = ""
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True, kw_only=True)
class Citation(Hit):
    """A hit the answer cites as [n]."""

    n: int

    @classmethod
    def of(cls, n: int, hit: Hit) -> Citation:
        return cls(n=n, **{f.name: getattr(hit, f.name) for f in fields(Hit)})


AnswerMethod = Literal["llm", "evidence"]
AnswerStyle = Literal["full", "short"]  # the LLM prompt: cited prose, or the answer alone
AnswerContext = Literal["chunks", "sentences"]  # what of each source the LLM reads


@dataclass
class Answer:
    """`citations` are the sources the text cites as [n] (none when it cites nothing);
    `sources` are every passage the answer was drawn from, numbered as in its context,
    cited or not. `method`: "llm", the chat model's answer, or "evidence", the passages'
    own sentences that best match the question (no model). `support`: how well the
    workspace covers the question (about 0..1), what KGRAG_REFUSE_BELOW is compared with."""

    question: str
    text: str
    citations: list[Citation]
    facts: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    refused: bool = False
    sources: list[Citation] = field(default_factory=list)
    method: AnswerMethod = "llm"
    support: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
