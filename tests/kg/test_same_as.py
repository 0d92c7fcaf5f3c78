"""SAME_AS edges only where the embedder read both names: no edge from the near-constant
vectors an English-only embedder gives Chinese names (or any unreadable script), and
Chinese names linked only when one keeps the other's characters in order."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Mention
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.kg.resolution import resolve_entities
from kgrag.kg.same_as_rules import same_as_allowed, unreadable
from kgrag.retrievers.entity_index import EntityIndex
from kgrag.retrievers.vector_index import VectorIndex, close_shared_clients

# Unrelated words that an English-only embedder gives (nearly) one vector.
HAN_WORDS = ["令牌", "深度", "张量", "索引", "腾讯", "曼哈顿", "达摩院", "阿联酋", "阿迪达斯"]


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


class TableEmbed:
    """Names to fixed vectors, for both sides (documents and queries)."""

    dim = 4

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, names: list[str], batch_size: int = 64) -> np.ndarray:
        return np.stack([self.vectors[n] for n in names])

    encode_queries = encode


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorIndex]:
    idx = VectorIndex("ws", path=tmp_path / "q")
    yield idx
    close_shared_clients(tmp_path / "q")


def _add(store: FalkorDBStore, names: list[str]) -> dict[str, str]:
    """One document mentioning `names`; returns name -> entity key."""
    text = "、".join(names)
    doc = Document("d1", "/data/d1.md", "d1", "zh", text, "sha-d1")
    chunk = Chunk("d1:0", "d1", 0, text, (0, len(text)))
    store.upsert_document(doc, [chunk])
    ents = [Entity(f"k{i}", n, "MISC", "zh") for i, n in enumerate(names)]
    mentions = [Mention(chunk.id, e.key, (0, 1)) for e in ents]
    store.upsert_annotations("d1", [ChunkAnnotations(chunk.id, ents, mentions)])
    return {e.name: e.key for e in ents}


def _edges(store: FalkorDBStore) -> set[frozenset[str]]:
    rows = store.run("MATCH (a:Entity)-[:SAME_AS]->(b:Entity) RETURN a.name AS a, b.name AS b")
    return {frozenset((r["a"], r["b"])) for r in rows}


# ---------------------------------------------------------------- the rules alone
def test_han_names_are_one_thing_only_with_their_characters_in_order():
    assert same_as_allowed("北大", "北京大学", reads_han=True)
    assert same_as_allowed("阿联酋", "阿拉伯联合酋长国", reads_han=True)
    assert same_as_allowed("ＧＰＴ-4模型", "gpt-4 大模型", reads_han=True)  # width, case
    assert not same_as_allowed("阿联酋", "阿迪达斯", reads_han=True)
    assert not same_as_allowed("蕲州", "衢州", reads_han=True)
    assert not same_as_allowed("GPT-4模型", "GPT-3模型", reads_han=True)


def test_a_chinese_name_is_its_head():
    assert same_as_allowed("湖北蕲春", "蕲春", reads_han=True)  # a qualifier before it
    assert same_as_allowed("湖北", "湖北省", reads_han=True)  # a designation after it
    assert not same_as_allowed("上海", "上海体育场", reads_han=True)  # another head
    assert not same_as_allowed("北京", "北京市委", reads_han=True)
    assert not same_as_allowed("浙江省", "浙江省宁波市", reads_han=True)


def test_different_acronyms_are_different_things():
    assert not same_as_allowed("SH", "SZ", reads_han=True)
    assert not same_as_allowed("CT", "TCT", reads_han=False)
    assert same_as_allowed("U.S.", "US", reads_han=False)
    assert same_as_allowed("NASA", "National Aeronautics and Space Administration", reads_han=False)


def test_latin_names_that_each_have_a_word_of_their_own_are_two_things():
    assert not same_as_allowed("Marie Curie", "Pierre Curie", reads_han=False)
    assert not same_as_allowed("Nobel Prize in Physics", "Nobel Prize in Chemistry", reads_han=True)
    assert not same_as_allowed("1998 World Cup", "2002 World Cup", reads_han=False)
    assert not same_as_allowed("John Smith", "Joan Smith", reads_han=False)
    assert same_as_allowed("Henri Becquerel", "Becquerel", reads_han=False)  # one word more
    assert same_as_allowed("Tchaikovsky", "Tchaikovski", reads_han=False)  # a spelling
    assert same_as_allowed("J. K. Rowling", "Joanne K. Rowling", reads_han=False)  # initials
    assert same_as_allowed("Paris University", "University of Paris", reads_han=False)
    assert same_as_allowed("US Army", "United States Army", reads_han=False)  # an acronym
    assert same_as_allowed("Marie Skłodowska-Curie", "Marie Curie", reads_han=False)


def test_a_name_held_after_a_preposition_is_what_the_longer_one_is_about():
    assert not same_as_allowed("University of Paris", "Paris", reads_han=False)
    assert not same_as_allowed("Hastings", "Battle of Hastings", reads_han=False)
    assert same_as_allowed("Nobel Prize", "Nobel Prize in Physics", reads_han=False)
    assert same_as_allowed("Ireland", "the Republic of Ireland", reads_han=False)
    assert same_as_allowed("Village of Schaumburg", "Schaumburg", reads_han=False)


def test_han_names_need_an_embedder_that_reads_them():
    assert not same_as_allowed("北大", "北京大学", reads_han=False)
    assert not same_as_allowed("Beijing", "北京", reads_han=False)
    assert same_as_allowed("Beijing", "北京", reads_han=True)  # the reader's call
    assert same_as_allowed("U.S. Navy", "United States Navy", reads_han=False)


def test_a_vector_shared_by_several_names_is_unreadable():
    assert unreadable([("me", 1.0), ("b", 0.999), ("c", 0.996)], "me")
    assert not unreadable([("me", 1.0), ("b", 0.999), ("c", 0.93)], "me")  # one twin


# ---------------------------------------------------------------- resolution
@pytest.mark.slow
def test_english_embedder_links_no_chinese_names(store: FalkorDBStore, index: VectorIndex):
    from kgrag.extractors.embed import load_embedder

    embedder = load_embedder()
    vectors = embedder.encode(HAN_WORDS)
    cos = vectors @ vectors.T
    assert cos[7, 8] > 0.9  # 阿联酋 / 阿迪达斯: the embedder cannot tell them apart
    _add(store, [*HAN_WORDS, "Barack Obama", "President Barack Obama"])
    resolve_entities(store, EntityIndex(index, embedder), reads_han=False)
    assert _edges(store) == {frozenset(("Barack Obama", "President Barack Obama"))}


@pytest.mark.slow
def test_reading_embedder_links_abbreviations_not_lookalikes(
    store: FalkorDBStore, index: VectorIndex
):
    embed = TableEmbed(
        {
            "北大": _unit(1, 0.1, 0, 0),
            "北京大学": _unit(1, 0.2, 0, 0),  # cosine 0.99 with 北大
            "阿联酋": _unit(0, 1, 0.3, 0),
            "阿迪达斯": _unit(0, 1, 0.35, 0),  # cosine 0.999 with 阿联酋
            "Curie": _unit(0, 0, 0, 1),
        }
    )
    _add(store, list(embed.vectors))
    resolve_entities(store, EntityIndex(index, embed), reads_han=True)
    assert _edges(store) == {frozenset(("北大", "北京大学"))}


@pytest.mark.slow
def test_names_sharing_one_vector_are_not_linked(store: FalkorDBStore, index: VectorIndex):
    """Any script the embedder cannot read: three different names, one vector."""
    same = _unit(1, 1, 1, 1)
    embed = TableEmbed(
        {
            "Москва": same,
            "Сбербанк": same,
            "Газпром": same,
            "Alpha": _unit(1, 0, 0, 0),
            "Alpha Corp": _unit(0.95, 0.312, 0, 0),  # cosine 0.95: a real pair
        }
    )
    _add(store, list(embed.vectors))
    resolve_entities(store, EntityIndex(index, embed))
    assert _edges(store) == {frozenset(("Alpha", "Alpha Corp"))}
