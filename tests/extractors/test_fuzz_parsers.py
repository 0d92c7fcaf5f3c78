"""Fuzzing the parsers with Hypothesis: whatever the bytes, parse_file returns a Document
or raises ParseError, and split_sentences returns well-formed spans.

Examples are few and small, and each has a deadline, so the file runs in seconds. No
example database is kept (database=None); Hypothesis still caches Unicode tables in
.hypothesis/, which it gitignores itself.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgrag.core.errors import ParseError
from kgrag.extractors.parse import SUPPORTED_SUFFIXES, parse_file
from kgrag.extractors.readers import _docx_heading_level, read_docx
from kgrag.extractors.sentences import split_sentences
from tests.extractors.ex_helpers import pdf_bytes
from tests.extractors.hostile import docx_bytes, docx_document_xml, docx_with_document_xml

FUZZ = settings(
    max_examples=40,
    deadline=5000,  # ms per example: generous, another test run may share the cores
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def parses_or_refuses(folder: Path, suffix: str, data: bytes) -> None:
    """parse_file either returns or raises ParseError naming the file; anything else
    propagates and fails the example."""
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        doc = parse_file(path)
    except ParseError as exc:
        assert exc.path == str(path) and exc.reason
    else:
        assert doc.text.strip()


# ------------------------------------------------------------------ strategies
WORDS = ["Radium", "glows", "Mr.", "Dr.", "e.g.", "U.S.", "3.5", "居里", "夫人", "。", "！",
         "？", "；", "…", "...", ".", "!", "?", '"', "'", "”", "」", ")", "\n", "\n\n", " ",
         "\t", "\r\n", "a", "B", "x" * 40, "中" * 20, "\u00a0", "\x00", "\ufffd", "#", "-"]
text_pieces = st.lists(st.sampled_from(WORDS) | st.text(max_size=4), max_size=60).map("".join)

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "latin-1"]
encoded_text = st.builds(
    lambda text, encoding: text.encode(encoding, "ignore"), text_pieces,
    st.sampled_from(ENCODINGS),
)

TAGS = ["p", "div", "span", "b", "h1", "h2", "h6", "main", "article", "body", "html", "head",
        "title", "nav", "script", "style", "template", "svg", "table", "tr", "td", "ul", "li",
        "br", "pre", "a", "form", "x-custom"]
ODDITIES = ["<!--", "-->", "<!-- c -->", "<![CDATA[x]]>", "<![if x]>", "<![foo[", "<?php x ?>",
            "<!DOCTYPE html>", "&amp;", "&#0;", "&#x110000;", "&bogus;", "</", "<", ">",
            "<a b='", '<a b="', "<a\n", "</p>", "\x00"]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, inner, close: f"<{tag}{attrs}>{inner}" + (f"</{tag}>" if close else ""),
        st.sampled_from(TAGS), st.sampled_from(["", " class='k'", " a b c", " x=>", " =y"]),
        st.lists(children, max_size=4).map("".join), st.booleans(),
    )


html_markup = st.recursive(
    text_pieces | st.sampled_from(ODDITIES), _element, max_leaves=30
).map(str.encode)

MD_LINES = ["# Title", "## Sub ##", "###### six", "####### seven", "#", "# ", "Setext",
            "===", "---", "```", "```python", "~~~", "    indented", "* item", "- item",
            "> quote", "", " ", "text. More text.", "居里夫人。"]
markdown = st.lists(st.sampled_from(MD_LINES) | text_pieces, max_size=40).map(
    lambda lines: "\n".join(lines).encode()
)


def _mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """`seed` truncated, with bytes overwritten, or with junk spliced in."""

    def mutate(cut: int, edits: list[tuple[int, int]], junk: bytes, at: int) -> bytes:
        data = bytearray(seed[: max(1, cut)])
        for position, value in edits:
            data[position % len(data)] = value
        at %= len(data) + 1
        return bytes(data[:at]) + junk + bytes(data[at:])

    return st.builds(
        mutate, st.integers(0, len(seed)),
        st.lists(st.tuples(st.integers(0, len(seed)), st.integers(0, 255)), max_size=8),
        st.binary(max_size=64), st.integers(0, len(seed)),
    )


GOOD_PDF = pdf_bytes("Radium glows in the dark.", title="Radium")
GOOD_DOCX = docx_bytes("Radium glows in the dark.", heading="Radium")
pdf_like = _mutated(GOOD_PDF) | st.binary(max_size=2000).map(lambda b: b"%PDF-1.7\n" + b)


def _zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


# Zips that claim to be docx: the real parts, some replaced by junk or random XML.
with zipfile.ZipFile(io.BytesIO(GOOD_DOCX)) as _archive:
    DOCX_PARTS = {name: _archive.read(name) for name in _archive.namelist()}
docx_like = _mutated(GOOD_DOCX) | st.builds(
    lambda replaced, body: _zip_of(
        [(name, body if name in replaced else data) for name, data in DOCX_PARTS.items()]
    ),
    st.sets(st.sampled_from(sorted(DOCX_PARTS)), min_size=1, max_size=3),
    html_markup | st.binary(max_size=200),
)


# ------------------------------------------------------------------ parse_file
@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
@FUZZ
@given(data=st.binary(max_size=3000) | encoded_text)
def test_any_bytes_parse_or_raise_parse_error(folder, suffix, data):
    parses_or_refuses(folder, suffix, data)


@pytest.mark.parametrize("suffix", [".html", ".htm"])
@FUZZ
@given(data=html_markup)
def test_html_like_input(folder, suffix, data):
    parses_or_refuses(folder, suffix, data)


@pytest.mark.parametrize("suffix", [".md", ".markdown"])
@FUZZ
@given(data=markdown)
def test_markdown_like_input(folder, suffix, data):
    parses_or_refuses(folder, suffix, data)


@FUZZ
@given(data=pdf_like)
def test_pdf_like_input(folder, data):
    parses_or_refuses(folder, ".pdf", data)


@FUZZ
@given(data=docx_like)
def test_docx_like_input(folder, data):
    parses_or_refuses(folder, ".docx", data)


# WordprocessingML bodies: styled paragraphs and tables with spans and merges, to check
# read_docx's own table walk and style lookup against python-docx's.
STYLE_IDS = ["Heading1", "Heading2", "Title", "Normal", "Missing", "ListParagraph", "Heading9"]
paragraph_xml = st.builds(
    lambda style, text: "<w:p>" + (f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else "")
    + f"<w:r><w:t>{text}</w:t></w:r></w:p>",
    st.none() | st.sampled_from(STYLE_IDS), st.sampled_from(["Radium", "Curie", "镭", " "]),
)
cell_xml = st.builds(
    lambda span, merge, text: "<w:tc><w:tcPr>"
    + (f'<w:gridSpan w:val="{span}"/>' if span != 1 else "")
    + {"": "", "restart": '<w:vMerge w:val="restart"/>', "continue": "<w:vMerge/>"}[merge]
    + f"</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>",
    st.integers(0, 3), st.sampled_from(["", "restart", "continue"]), st.sampled_from("abc"),
)
row_xml = st.builds(
    lambda before, cells: "<w:tr>"
    + (f'<w:trPr><w:gridBefore w:val="{before}"/></w:trPr>' if before else "")
    + "".join(cells) + "</w:tr>",
    st.integers(0, 2), st.lists(cell_xml, min_size=1, max_size=4),
)
table_xml = st.lists(row_xml, min_size=1, max_size=5).map(
    lambda rows: "<w:tbl>" + "".join(rows) + "</w:tbl>"
)
docx_body = st.lists(paragraph_xml | table_xml, min_size=1, max_size=6).map("".join)


def _python_docx_reading(data: bytes) -> tuple[list[str], list[tuple[int, str]]] | None:
    """Blocks and (level, heading) as python-docx's own API reads them; None where it
    fails (a merge with no cell above, say), which read_docx need not copy."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks, headings = [], []
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                blocks += [" | ".join(c.text.strip() for c in row.cells) for row in block.rows]
            else:
                blocks.append(block.text)
                level = _docx_heading_level(block.style.name if block.style else "")
                if level is not None and block.text.strip():
                    headings.append((level, block.text.strip()))
    except (ValueError, IndexError):
        return None
    return [b.strip() for b in blocks if b.strip()], headings


@FUZZ
@given(body=docx_body)
def test_docx_structures_read_as_python_docx_does(body):
    data = docx_with_document_xml(docx_document_xml(body))
    expected = _python_docx_reading(data)
    try:
        got = read_docx("fuzz.docx", data)
    except ParseError:
        assert expected is None
        return
    if expected is not None:
        assert got.text.split("\n\n") == expected[0] if expected[0] else got.text == ""
        assert [(level, text) for _, level, text in got.headings] == expected[1]


# ------------------------------------------------------------------ sentences
@pytest.mark.parametrize("lang", ["en", "zh"])
@settings(FUZZ, max_examples=300)
@given(text=text_pieces | st.text(max_size=300))
def test_sentence_spans_are_well_formed(lang, text):
    spans = split_sentences(text, lang)
    for start, end in spans:
        assert 0 <= start < end <= len(text)  # inside the text, not empty
        assert not text[start].isspace() and not text[end - 1].isspace()  # trimmed
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start  # in order, not overlapping
    covered = "".join(text[a:b] for a, b in spans)
    assert "".join(text.split()) == "".join(covered.split())  # nothing but space dropped
