"""Helpers for the extractor tests (a module name no other test folder uses)."""

from __future__ import annotations

import io

from kgrag.core.types import Document
from kgrag.extractors.parse import parse_text


def make_doc(text: str, path: str = "mem/doc.txt", title: str = "doc") -> Document:
    return parse_text(text, path=path, title=title)


def pdf_bytes(text: str, *, password: str | None = None, title: str | None = None) -> bytes:
    """A one-page PDF whose text layer holds `text` (Helvetica, ASCII)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def entities_of(annotator, text: str):
    """The entities of a short text, as query analysis finds them."""
    from kgrag.extractors.query_terms import QueryAnalyzer

    return QueryAnalyzer(annotator.languages).analyze(text).entities
