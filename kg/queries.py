"""Every data statement kgrag sends, in the Cypher subset Neo4j 5 and FalkorDB share.

Rules: values always travel as parameters; labels and types are the constants of
`kg.schema`; writes are `UNWIND $rows ... MERGE` so re-running one is a no-op.

FalkorDB planner pitfall (measured: 9.6 s vs 12 ms for 300 chunk ids): a WHERE on the far
end of a pattern makes it start from a label scan of that end. Filter after a `WITH`
instead, so the traversal starts from the indexed, UNWIND-bound node.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- writes
UPSERT_DOCUMENTS: Final = """
UNWIND $rows AS r
MERGE (d:Document {id: r.id})
SET d.path = r.path, d.title = r.title, d.lang = r.lang, d.sha256 = r.sha256,
    d.ingested_at = r.ingested_at, d.format = r.format, d.ner_backend = r.ner_backend,
    d.size = r.size, d.mtime_ns = r.mtime_ns
"""

UPSERT_CHUNKS: Final = """
UNWIND $rows AS r
MATCH (d:Document {id: r.doc_id})
MERGE (c:Chunk {id: r.id})
SET c.doc_id = r.doc_id, c.idx = r.idx, c.text = r.text, c.level = r.level,
    c.span_start = r.span_start, c.span_end = r.span_end
MERGE (d)-[:HAS_CHUNK]->(c)
"""

LINK_NEXT: Final = """
UNWIND $rows AS r
MATCH (a:Chunk {id: r.src}), (b:Chunk {id: r.dst})
MERGE (a)-[:NEXT]->(b)
"""

LINK_PART_OF: Final = """
UNWIND $rows AS r
MATCH (child:Chunk {id: r.child}), (parent:Chunk {id: r.parent})
MERGE (child)-[:PART_OF]->(parent)
"""

UPSERT_ENTITIES: Final = """
UNWIND $rows AS r
MERGE (e:Entity {key: r.key})
ON CREATE SET e.name = r.name, e.type = r.type, e.lang = r.lang, e.aliases = [r.name],
              e.mention_count = 0, e.is_hub = false
ON MATCH SET e.aliases = CASE WHEN r.name IN e.aliases THEN e.aliases
                              ELSE e.aliases + [r.name] END
"""

UPSERT_MENTIONS: Final = """
UNWIND $rows AS r
MATCH (c:Chunk {id: r.chunk_id}), (e:Entity {key: r.key})
MERGE (c)-[m:MENTIONS]->(e)
SET m.count = r.count, m.starts = r.starts
"""

UPSERT_KEYPHRASES: Final = """
UNWIND $rows AS r
MATCH (c:Chunk {id: r.chunk_id})
MERGE (k:Keyphrase {key: r.key})
ON CREATE SET k.text = r.text
MERGE (c)-[h:HAS_KEYPHRASE]->(k)
SET h.score = r.score
"""

UPSERT_RELATIONS: Final = """
UNWIND $rows AS r
MATCH (a:Entity {key: r.src}), (b:Entity {key: r.dst})
MERGE (a)-[rel:RELATION {predicate: r.predicate, chunk_id: r.chunk_id}]->(b)
SET rel.sentence = r.sentence, rel.negated = r.negated, rel.doc_id = r.doc_id,
    rel.args = r.args, rel.span_start = r.span_start, rel.span_end = r.span_end
"""

UPSERT_SAME_AS: Final = """
UNWIND $rows AS r
MATCH (a:Entity {key: r.src}), (b:Entity {key: r.dst})
MERGE (a)-[s:SAME_AS]->(b)
SET s.score = r.score
"""

SAME_AS_EDGES: Final = """
MATCH (a:Entity)-[:SAME_AS]->(b:Entity)
RETURN a.key AS src, a.name AS src_name, b.key AS dst, b.name AS dst_name
"""

DELETE_SAME_AS: Final = """
UNWIND $rows AS r
MATCH (:Entity {key: r.src})-[s:SAME_AS]->(:Entity {key: r.dst})
DELETE s
"""

REFRESH_MENTION_COUNTS: Final = """
UNWIND $keys AS key
MATCH (e:Entity {key: key})
WITH e, size([(e)<-[:MENTIONS]-(:Chunk) | 1]) AS n
SET e.mention_count = n, e.is_hub = n >= $hub_threshold
"""

# ---------------------------------------------------------------- deletes
DOCUMENT_ENTITY_KEYS: Final = """
MATCH (:Document {id: $doc_id})-[:HAS_CHUNK]->(:Chunk)-[:MENTIONS]->(e:Entity)
RETURN DISTINCT e.key AS key
"""

DOCUMENT_KEYPHRASE_KEYS: Final = """
MATCH (:Document {id: $doc_id})-[:HAS_CHUNK]->(:Chunk)-[:HAS_KEYPHRASE]->(k:Keyphrase)
RETURN DISTINCT k.key AS key
"""

DELETE_DOCUMENT_RELATIONS: Final = """
MATCH (:Entity)-[rel:RELATION]->(:Entity)
WHERE rel.doc_id = $doc_id
DELETE rel
"""

DELETE_DOCUMENT_CHUNKS: Final = """
MATCH (c:Chunk {doc_id: $doc_id})
DETACH DELETE c
"""

DELETE_DOCUMENT: Final = """
MATCH (d:Document {id: $doc_id})
DETACH DELETE d
"""

DELETE_ORPHAN_ENTITIES: Final = """
UNWIND $keys AS key
MATCH (e:Entity {key: key})
WITH e, size([(e)<-[:MENTIONS]-(:Chunk) | 1]) AS n
WHERE n = 0
DETACH DELETE e
"""

DELETE_ORPHAN_KEYPHRASES: Final = """
UNWIND $keys AS key
MATCH (k:Keyphrase {key: key})
WITH k, size([(k)<-[:HAS_KEYPHRASE]-(:Chunk) | 1]) AS n
WHERE n = 0
DETACH DELETE k
"""

DELETE_ALL: Final = "MATCH (n) DETACH DELETE n"

MARK_DOCUMENT_COMPLETE: Final = """
MATCH (d:Document {id: $doc_id})
SET d.complete = true
"""

MARK_ENTITIES_RESOLVED: Final = """
UNWIND $keys AS key
MATCH (e:Entity {key: key})
SET e.resolved = true
"""

MARK_ENTITIES_UNRESOLVED: Final = """
UNWIND $keys AS key
MATCH (e:Entity {key: key})
REMOVE e.resolved
"""

# ---------------------------------------------------------------- reads

_DOCUMENT_FIELDS = """
RETURN d.id AS id, d.path AS path, d.title AS title, d.lang AS lang, d.sha256 AS sha256,
       coalesce(d.complete, false) AS complete, d.size AS size, d.mtime_ns AS mtime_ns
"""

SET_DOCUMENT_STATS: Final = """
UNWIND $rows AS r
MATCH (d:Document {id: r.id})
SET d.size = r.size, d.mtime_ns = r.mtime_ns
"""

DOCUMENTS_BY_PATH: Final = "MATCH (d:Document {path: $path})" + _DOCUMENT_FIELDS

DOCUMENTS_BY_PATHS: Final = (
    "UNWIND $paths AS path MATCH (d:Document {path: path})" + _DOCUMENT_FIELDS
)

DOCUMENT_BY_ID: Final = "MATCH (d:Document {id: $doc_id})" + _DOCUMENT_FIELDS

ALL_DOCUMENTS: Final = "MATCH (d:Document)" + _DOCUMENT_FIELDS + "ORDER BY d.path"

CHUNK_IDS: Final = "MATCH (c:Chunk) RETURN c.id AS id"

READER_CHUNKS: Final = "MATCH (c:Chunk {level: 0}) RETURN c.id AS id, c.doc_id AS doc_id"

CHUNKS_BY_ID: Final = """
UNWIND $ids AS id
MATCH (d:Document)-[:HAS_CHUNK]->(c:Chunk {id: id})
RETURN c.id AS id, c.doc_id AS doc_id, c.text AS text, c.level AS level,
       c.span_start AS span_start, c.span_end AS span_end, d.path AS path, d.title AS title
"""

# Titles of many chunks' documents, and the texts of the few in $with_text.
CHUNK_TITLES: Final = """
UNWIND $ids AS id
MATCH (d:Document)-[:HAS_CHUNK]->(c:Chunk {id: id})
RETURN c.id AS id, d.id AS doc_id, d.title AS title,
       CASE WHEN c.id IN $with_text THEN c.text ELSE null END AS text
"""

COUNT_LABEL: Final = {
    label: f"MATCH (n:{label}) RETURN count(n) AS n"
    for label in ("Document", "Chunk", "Entity", "Keyphrase")
}

COUNT_RELATIONSHIP: Final = {
    rel: f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n"
    for rel in ("HAS_CHUNK", "NEXT", "PART_OF", "MENTIONS", "HAS_KEYPHRASE", "RELATION", "SAME_AS")
}

_ENTITY_FIELDS = """
RETURN e.key AS key, e.name AS name, e.type AS type, e.mention_count AS mention_count,
       e.is_hub AS is_hub
"""

ENTITIES_BY_KEY: Final = "UNWIND $keys AS key MATCH (e:Entity {key: key})" + _ENTITY_FIELDS

ENTITY_KEYS: Final = "MATCH (e:Entity) RETURN e.key AS key"

UNRESOLVED_ENTITIES: Final = (
    "MATCH (e:Entity) WITH e WHERE e.resolved IS NULL" + _ENTITY_FIELDS + "ORDER BY e.key"
)

ENTITIES_OF_CHUNKS: Final = """
UNWIND $ids AS id
MATCH (c:Chunk {id: id})-[:MENTIONS]->(e:Entity)
WITH c, e
WHERE e.is_hub = false
RETURN c.id AS chunk_id, e.key AS key
"""

# Sampling (k-hop): entity -> chunks that mention it, chunk -> entities it mentions, and
# entity -> entity edges inside the sampled set. Fan-out is capped by skipping entities
# mentioned in more than $cap chunks (hubs): FalkorDB has no per-row LIMIT in subqueries.
NEIGHBOURHOOD_MENTIONS: Final = """
UNWIND $keys AS key
MATCH (e:Entity {key: key})<-[m:MENTIONS]-(c:Chunk)
WITH e, m, c
WHERE e.mention_count <= $cap
RETURN e.key AS key, c.id AS chunk_id, m.count AS count
"""

CHUNK_ENTITIES: Final = """
UNWIND $ids AS id
MATCH (c:Chunk {id: id})-[m:MENTIONS]->(e:Entity)
WITH c, m, e
WHERE e.is_hub = false
RETURN c.id AS chunk_id, e.key AS key, m.count AS count
"""

# Outgoing edges only (each edge once); the caller keeps those whose target is in the set
# (a list-membership test inside the query is linear per row on FalkorDB).
ENTITY_EDGES_FROM: Final = """
UNWIND $keys AS key
MATCH (a:Entity {key: key})-[r:RELATION|SAME_AS]->(b:Entity)
RETURN a.key AS src, b.key AS dst, type(r) AS type, r.predicate AS predicate,
       r.chunk_id AS chunk_id, r.sentence AS sentence, r.negated AS negated, r.score AS score
"""

EXPORT_NODES: Final = """
MATCH (n)
RETURN labels(n)[0] AS label, properties(n) AS props
"""

EXPORT_EDGES: Final = """
MATCH (a)-[r]->(b)
RETURN labels(a)[0] AS src_label, coalesce(a.id, a.key) AS src,
       type(r) AS type, properties(r) AS props,
       labels(b)[0] AS dst_label, coalesce(b.id, b.key) AS dst
"""

# ---------------------------------------------------------------- the web page's reads
# Each document with its chunk count and the number of distinct entities its chunks
# mention (the Documents view of `kgrag serve`).
DOCUMENT_STATS: Final = """
MATCH (d:Document)
OPTIONAL MATCH (d)-[:HAS_CHUNK]->(c:Chunk)
WITH d, count(c) AS chunks
OPTIONAL MATCH (d)-[:HAS_CHUNK]->(:Chunk)-[:MENTIONS]->(e:Entity)
WITH d, chunks, count(DISTINCT e) AS entities
RETURN d.id AS id, d.path AS path, d.title AS title, d.lang AS lang, d.sha256 AS sha256,
       coalesce(d.complete, false) AS complete, chunks, entities
ORDER BY d.path
"""

# The chunks before and after one in its document's reading order (NEXT links level 0).
CHUNK_NEIGHBOURS: Final = """
MATCH (c:Chunk {id: $id})
OPTIONAL MATCH (p:Chunk)-[:NEXT]->(c)
OPTIONAL MATCH (c)-[:NEXT]->(n:Chunk)
RETURN p.id AS before, n.id AS after
"""

# The most mentioned entities that are not hubs: where to start exploring.
TOP_ENTITIES: Final = """
MATCH (e:Entity)
WITH e
WHERE e.is_hub = false
RETURN e.key AS key, e.name AS name, e.type AS type, e.mention_count AS mention_count,
       e.is_hub AS is_hub
ORDER BY e.mention_count DESC, e.key
LIMIT $limit
"""
