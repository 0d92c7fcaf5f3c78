"""Knowledge graph: model, Cypher, Neo4j/FalkorDB adapters, resolution and sampling."""
