from kgrag.extractors.annotator import title_entity
from kgrag.extractors.parse import parse_text


def test_title_entity_drops_qualifier_and_ignores_file_names():
    doc = parse_text(
        "# Lilu (mythology)\n\nLilu is a demon.", path="/x/p1.md", title="Lilu (mythology)"
    )
    entity = title_entity(doc)
    assert entity is not None and entity.name == "Lilu" and entity.type == "TITLE"
    assert title_entity(parse_text("text", path="/x/notes.md", title="notes")) is None
    long_title = "A very long title that reads like a sentence and names nothing at all"
    assert title_entity(parse_text("text", path="/x/a.md", title=long_title)) is None
