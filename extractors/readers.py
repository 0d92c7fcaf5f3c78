"""One reader per format: bytes in, plain text plus structure (title, headings) out.

Readers raise ParseError naming the file; `extractors.parse` picks the reader.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from kgrag.core.errors import ParseError
from kgrag.extractors.decode import DecodeError, decode_bytes

Heading = tuple[int, int, str]  # (char offset in text, level 1-6, heading text)


@dataclass
class Extracted:
    text: str
    title: str | None = None
    headings: list[Heading] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _decode(path: str, data: bytes) -> tuple[str, str]:
    try:
        text, encoding = decode_bytes(data)
    except DecodeError as exc:
        raise ParseError(path, str(exc)) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def read_text(path: str, data: bytes) -> Extracted:
    text, encoding = _decode(path, data)
    return Extracted(text, meta={"encoding": encoding})


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_SETEXT = re.compile(r"^(?P<text>[^\n]*\S[^\n]*)\n {0,3}(?P<bar>=+|-+)[ \t]*$", re.M)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)


def read_markdown(path: str, data: bytes) -> Extracted:
    """Markdown stays as written (chunk offsets point into it); headings are collected
    outside code fences, ATX (`# x`) and setext (underlined) alike."""
    text, encoding = _decode(path, data)
    fenced = [m.span() for m in _FENCE.finditer(text)]

    def outside(pos: int) -> bool:
        return not any(a <= pos < b for a, b in fenced)

    headings: list[Heading] = [
        (m.start(), len(m.group(1)), m.group(2))
        for m in _ATX.finditer(text)
        if outside(m.start())
    ]
    headings += [
        (m.start(), 1 if m.group("bar")[0] == "=" else 2, m.group("text").strip())
        for m in _SETEXT.finditer(text)
        if outside(m.start()) and not m.group("text").lstrip().startswith(("#", "-", "*"))
    ]
    headings.sort()
    title = headings[0][2] if headings else None
    return Extracted(text, title, headings, {"encoding": encoding})


_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "noscript", "form",
              "svg", "iframe", "template", "button")
_BLOCK_TAGS = frozenset(
    (
        "p", "div", "section", "article", "main", "li", "ul", "ol", "table", "thead", "tbody", "tr",
        "td", "th", "blockquote", "pre", "dl", "dt", "dd", "figure", "figcaption", "address", "br",
        "hr", "body", "html", "caption", "details", "summary",
    )
)
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


class _TextBuilder:
    """Joins text nodes into paragraphs separated by blank lines, tracking offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.inline: list[str] = []

    def add_inline(self, text: str) -> None:
        self.inline.append(text)

    def flush(self) -> int | None:
        """End the current paragraph; its start offset, or None if it was empty."""
        paragraph = " ".join("".join(self.inline).split())
        self.inline = []
        if not paragraph:
            return None
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        start = self.length
        self.parts.append(paragraph)
        self.length += len(paragraph)
        return start

    def text(self) -> str:
        self.flush()
        return "".join(self.parts)


def read_html(path: str, data: bytes) -> Extracted:
    """Main text of a page: navigation, scripts, styles, headers and footers dropped;
    <main> or <article> preferred when the page has one."""
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    html, encoding = _decode(path, data)
    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else None
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.find("body") or soup
    builder = _TextBuilder()
    headings: list[Heading] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not Doctype, CData, ...
                    builder.add_inline(str(child))
            elif isinstance(child, Tag):
                if child.name in _HEADING_TAGS:
                    builder.flush()
                    walk(child)
                    heading = " ".join("".join(builder.inline).split())
                    start = builder.flush()
                    if start is not None:
                        headings.append((start, _HEADING_TAGS[child.name], heading))
                elif child.name in _BLOCK_TAGS:
                    builder.flush()
                    walk(child)
                    builder.flush()
                else:
                    walk(child)

    if isinstance(root, Tag):
        walk(root)
    text = builder.text()
    if not title:
        title = next((h[2] for h in headings if h[1] == 1), None)
    return Extracted(text, title, headings, {"encoding": encoding})


def read_pdf(path: str, data: bytes) -> Extracted:
    """Text layer of every page, pages separated by blank lines. A PDF that opens with
    the empty password is read; one that needs a password is refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ParseError(path, "corrupt PDF: no %PDF header")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError(path, "encrypted PDF: a password is required")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise ParseError(path, f"encrypted PDF: {exc}") from exc
        raise ParseError(path, f"corrupt PDF: {exc}") from exc
    texts = [page.strip() for page in pages]
    offsets: list[int] = []
    pos = 0
    for page_text in texts:
        offsets.append(pos)
        pos += len(page_text) + 2
    text = "\n\n".join(texts)
    if not text.strip():
        raise ParseError(path, "PDF has no text layer (scanned images need OCR)")
    title = info.title if info is not None and info.title else None
    return Extracted(text, title, [], {"pages": len(texts), "page_offsets": offsets})


def read_docx(path: str, data: bytes) -> Extracted:
    """Paragraphs and table cells in document order; "Heading N" / "Title" styles become
    headings. A zip archive without word/document.xml is not a docx."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise ParseError(path, "corrupt docx: not a zip archive") from exc
    if "word/document.xml" not in names:
        raise ParseError(path, "zip archive is not a docx (no word/document.xml)")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for broken parts
        raise ParseError(path, f"corrupt docx: {exc}") from exc
    parts: list[str] = []
    headings: list[Heading] = []
    length = 0

    def add(text: str, level: int | None) -> None:
        nonlocal length
        text = text.strip()
        if not text:
            return
        if parts:
            length += 2
        if level is not None:
            headings.append((length, level, text))
        parts.append(text)
        length += len(text)

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            add(block.text, _docx_heading_level(block.style.name if block.style else ""))
        elif isinstance(block, Table):
            for row in block.rows:
                add(" | ".join(cell.text.strip() for cell in row.cells), None)
    title = document.core_properties.title or next((h[2] for h in headings), None)
    return Extracted("\n\n".join(parts), title, headings, {})


def _docx_heading_level(style: str | None) -> int | None:
    if not style:
        return None
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else None
