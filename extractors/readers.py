"""One reader per format: bytes in, plain text plus structure (title, headings) out.

Readers raise ParseError naming the file; `extractors.parse` picks the reader. Input may
be hostile: every reader bounds the time and memory a small file can make it spend, and
turns whatever its parsing library raises on broken input into a ParseError.
"""

from __future__ import annotations

import bisect
import io
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgrag.core.errors import ParseError
from kgrag.extractors.decode import DecodeError, decode_text
from kgrag.extractors.front_matter import split_front_matter

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table

Heading = tuple[int, int, str]  # (char offset in text, level 1-6, heading text)


@dataclass
class Extracted:
    text: str
    title: str | None = None
    headings: list[Heading] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def _decode(path: str, data: bytes) -> tuple[str, dict[str, Any]]:
    """Text with \\n line ends, and the meta every text format carries: its encoding, and
    warnings (such as invalid UTF-8 replaced) only when there are some."""
    try:
        decoded = decode_text(data)
    except DecodeError as exc:
        raise ParseError(path, str(exc)) from exc
    meta: dict[str, Any] = {"encoding": decoded.encoding}
    if decoded.warnings:
        meta["warnings"] = list(decoded.warnings)
    return decoded.text.replace("\r\n", "\n").replace("\r", "\n"), meta


def read_text(path: str, data: bytes) -> Extracted:
    text, meta = _decode(path, data)
    return Extracted(text, meta=meta)


# Headings are matched in linear time: the text after the hashes is taken whole and its
# closing hashes stripped in Python, and a setext title line is only required to hold a
# non-space; regexes that backtracked over those (`(.+?)[ \t#]*$`, `[^\n]*\S[^\n]*`)
# were quadratic in the length of a line.
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+([^\n]+)$", re.M)
_SETEXT = re.compile(r"^(?=[^\n]*?\S)(?P<text>[^\n]+)\n {0,3}(?P<bar>=+|-+)[ \t]*$", re.M)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)


def read_markdown(path: str, data: bytes) -> Extracted:
    """Markdown stays as written (chunk offsets point into it), less a YAML front matter
    block, whose `title:` is the title; otherwise the first heading is. Headings are
    collected outside code fences, ATX (`# x`) and setext (underlined) alike."""
    text, meta = _decode(path, data)
    text, front_title = split_front_matter(text)
    fenced = [m.span() for m in _FENCE.finditer(text)]  # in order, not overlapping
    fence_starts = [start for start, _ in fenced]

    def outside(pos: int) -> bool:
        i = bisect.bisect_right(fence_starts, pos) - 1
        return i < 0 or pos >= fenced[i][1]

    headings: list[Heading] = [
        (m.start(), len(m.group(1)), _atx_title(m.group(2)))
        for m in _ATX.finditer(text)
        if outside(m.start())
    ]
    headings += [
        (m.start(), 1 if m.group("bar")[0] == "=" else 2, m.group("text").strip())
        for m in _SETEXT.finditer(text)
        if outside(m.start()) and not m.group("text").lstrip().startswith(("#", "-", "*"))
    ]
    headings.sort()
    title = front_title or (headings[0][2] if headings else None)
    return Extracted(text, title, headings, meta)


def _atx_title(rest: str) -> str:
    """An ATX heading's text: the line after `#… ` without its closing spaces and hashes,
    but never empty (`# ##` is titled "#")."""
    return rest[: max(1, len(rest.rstrip(" \t#")))]


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


# bs4's tree costs about 1 KB per element: past this many elements (and comments and
# processing instructions) a page is refused rather than parsed (~200 MB, ~5 s).
MAX_HTML_NODES = 200_000
_OPENING_TAG = re.compile(rb"<[A-Za-z]")


class _TooManyNodes(Exception):
    pass


def _html_builder(max_nodes: int) -> Any:
    """bs4's lxml tree builder, counting nodes as they are parsed and dropping attributes.

    lxml rather than html.parser: the standard library's parser is quadratic on inputs
    such as 20,000 unclosed `<a b='` (42 s for 120 KB). Attributes are never read here,
    and bs4 keeps about 400 bytes for each one (a 10 MB tag of them took 800 MB).
    """
    from bs4.builder._lxml import LXMLTreeBuilder

    class Builder(LXMLTreeBuilder):
        nodes = 0

        def _count(self) -> None:
            self.nodes += 1
            if self.nodes > max_nodes:
                raise _TooManyNodes(f"too many HTML elements: over {max_nodes}")

        def start(self, tag: Any, attrib: Any, nsmap: Any = None) -> None:
            self._count()
            super().start(tag, {}, nsmap or {})

        def comment(self, text: Any) -> None:
            self._count()
            super().comment(text)

        def pi(self, target: Any, data: Any) -> None:
            self._count()
            super().pi(target, data)

    return Builder()


def read_html(path: str, data: bytes, *, max_nodes: int = MAX_HTML_NODES) -> Extracted:
    """Main text of a page: navigation, scripts, styles, headers and footers dropped;
    <main> or <article> preferred when the page has one."""
    from bs4 import BeautifulSoup, Tag

    opening_tags = len(_OPENING_TAG.findall(data))
    if opening_tags > max_nodes:  # refused before a tree of them is built (200 MB at 200k)
        raise ParseError(path, f"too many HTML elements: over {max_nodes} ({opening_tags})")
    html, meta = _decode(path, data)
    try:
        soup = BeautifulSoup(html.replace("\x00", ""), builder=_html_builder(max_nodes))
    except _TooManyNodes as exc:
        raise ParseError(path, str(exc)) from exc
    except Exception as exc:  # bs4 and lxml give many types for markup they reject
        raise ParseError(path, f"unparseable HTML: {type(exc).__name__}: {exc}") from exc
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else None
    kept = _first_kept(soup, ("main", "article", "body"))
    root = kept.get("main") or kept.get("article") or kept.get("body") or soup
    builder = _TextBuilder()
    headings: list[Heading] = []
    if isinstance(root, Tag):
        _walk_html(root, builder, headings)
    text = builder.text()
    if not title:
        title = next((h[2] for h in headings if h[1] == 1), None)
    return Extracted(text, title, headings, meta)


def _first_kept(root: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The first tag (document order) of each name outside the dropped tags, walked with
    an explicit stack: a page may nest deeper than Python recursion goes."""
    from bs4 import Tag

    found: dict[str, Any] = {}
    stack = [iter(root.children)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif isinstance(child, Tag) and child.name not in _DROP_TAGS:
            if child.name in names:
                found.setdefault(child.name, child)
            stack.append(iter(child.children))
    return found


def _walk_html(root: Any, builder: _TextBuilder, headings: list[Heading]) -> None:
    """Text nodes under `root` into `builder`, in document order, skipping dropped tags.

    Iterative (one child iterator per open tag) so that deep nesting cannot exhaust the
    Python stack. Block tags end the paragraph before and after them; a heading is its
    own paragraph, recorded with its offset when it closes.
    """
    from bs4 import Comment, NavigableString, Tag

    # Each frame: the children still to visit, and what closing the tag does:
    # None (inline, or the root), "block", or the heading level.
    stack: list[tuple[Iterator[Any], str | int | None]] = [(iter(root.children), None)]
    while stack:
        children, closing = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if closing == "block":
                builder.flush()
            elif isinstance(closing, int):
                heading = " ".join("".join(builder.inline).split())
                start = builder.flush()
                if start is not None:
                    headings.append((start, closing, heading))
        elif isinstance(child, Comment):
            continue
        elif isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not Doctype, CData, ...
                builder.add_inline(str(child))
        elif isinstance(child, Tag) and child.name not in _DROP_TAGS:
            action: str | int | None = None
            if child.name in _HEADING_TAGS:
                action = _HEADING_TAGS[child.name]
            elif child.name in _BLOCK_TAGS:
                action = "block"
            if action is not None:
                builder.flush()
            stack.append((iter(child.children), action))


# PDF text extraction is bounded, because a few kilobytes can keep pypdf busy for hours:
# thousands of pages may share one content stream (pypdf bounds each stream, not the
# document). Work is counted in bytes of page content (pypdf extracts about 0.6 MB/s) plus
# _PDF_PAGE_WORK per page for its setup; the budget grows with the file, and real PDFs
# (measured: 0.6 to 1.1 bytes of content per byte of file) stay far below it. The clock,
# checked between pages, is a backstop for what the count does not see.
_PDF_BASE_WORK = 2_000_000
_PDF_WORK_PER_BYTE = 16
_PDF_PAGE_WORK = 1_000
PDF_MAX_SECONDS = 300.0


class _OverBudget(Exception):
    pass


class _PdfBudget:
    def __init__(self, limit: int, max_seconds: float) -> None:
        self.limit = limit
        self.used = 0
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds

    def spend(self, work: int) -> None:
        self.used += work
        if self.used > self.limit:
            raise _OverBudget(f"page content exceeds {self.limit} bytes")
        if time.monotonic() > self.deadline:
            raise _OverBudget(f"text extraction takes over {self.max_seconds:g} s")


def read_pdf(path: str, data: bytes, *, max_seconds: float = PDF_MAX_SECONDS) -> Extracted:
    """Text layer of every page, pages separated by blank lines. A PDF that opens with
    the empty password is read; one that needs a password is refused."""
    from pypdf import PdfReader

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ParseError(path, "corrupt PDF: no %PDF header")
    budget = _PdfBudget(_PDF_BASE_WORK + _PDF_WORK_PER_BYTE * len(data), max_seconds)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError(path, "encrypted PDF: a password is required")
        pages: list[str] = []
        for page in reader.pages:
            contents = page.get_contents()  # decoded once, cached for extract_text
            size = len(contents.get_data()) if contents is not None else 0
            budget.spend(_PDF_PAGE_WORK + size)
            pages.append(page.extract_text() or "")
        info = reader.metadata
        title = info.title if info is not None and info.title else None
    except ParseError:
        raise
    except _OverBudget as exc:
        raise ParseError(path, f"PDF too costly to read: {exc}") from exc
    except Exception as exc:  # pypdf raises dozens of types (and RecursionError) on bad input
        message = f"{type(exc).__name__}: {exc}"
        if "decrypt" in message.lower() or "encrypt" in message.lower():
            raise ParseError(path, f"encrypted PDF: {message}") from exc
        raise ParseError(path, f"corrupt PDF: {message}") from exc
    texts = [page.strip() for page in pages]
    offsets: list[int] = []
    pos = 0
    for page_text in texts:
        offsets.append(pos)
        pos += len(page_text) + 2
    text = "\n\n".join(texts)
    if not text.strip():
        raise ParseError(path, "PDF has no text layer (scanned images need OCR)")
    return Extracted(text, title, [], {"pages": len(texts), "page_offsets": offsets})


# A docx is a zip; python-docx reads every part it references into memory and parses the
# XML ones with lxml, at up to 20 bytes per byte of dense XML. Zip entries declare their
# uncompressed sizes and zipfile never inflates past them, so the sums below bound that
# memory before anything is inflated. Images are stored already compressed, so a real
# docx inflates to little more than its own size (max_bytes, 50 MB by default): 200 MB
# leaves room for its XML. Entries that deflate by more than 10% are XML (or other text),
# capped lower so that their parse trees stay near 600 MB; a 1,000-page document has
# about 10 MB of XML.
DOCX_MAX_UNCOMPRESSED = 200_000_000
DOCX_MAX_COMPRESSIBLE = 32_000_000
# Opening a zip costs ~1 KB per entry (twice: here and in python-docx), 600 MB for the
# 500,000 empty entries of a 41 MB file; a real docx has tens, hundreds with many images.
# Counted before opening, as central directory signatures (an upper bound).
DOCX_MAX_ENTRIES = 10_000
# Word tables have at most 63 columns; a cell's span beyond that is bogus, and python-docx
# would repeat the cell once per column spanned.
_DOCX_MAX_SPAN = 64


def read_docx(
    path: str,
    data: bytes,
    *,
    max_uncompressed: int = DOCX_MAX_UNCOMPRESSED,
    max_compressible: int = DOCX_MAX_COMPRESSIBLE,
) -> Extracted:
    """Paragraphs and table cells in document order; "Heading N" / "Title" styles become
    headings. A zip archive without word/document.xml is not a docx; one that would
    inflate past the limits above is refused unread."""
    entry_count = data.count(b"PK\x01\x02")
    if entry_count > DOCX_MAX_ENTRIES:
        raise ParseError(path, f"zip archive has {entry_count} entries > limit {DOCX_MAX_ENTRIES}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, and ValueError/OSError/... on bogus headers
        raise ParseError(path, f"corrupt docx: not a zip archive ({exc})") from exc
    if not any(entry.filename == "word/document.xml" for entry in entries):
        raise ParseError(path, "zip archive is not a docx (no word/document.xml)")
    total = sum(entry.file_size for entry in entries)
    if total > max_uncompressed:
        raise ParseError(path, f"uncompressed size {total} bytes > limit {max_uncompressed}")
    compressible = sum(e.file_size for e in entries if e.file_size > 1.1 * e.compress_size)
    if compressible > max_compressible:
        raise ParseError(
            path, f"uncompressed XML size {compressible} bytes > limit {max_compressible}"
        )
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        return _docx_content(document)
    except Exception as exc:  # python-docx raises many types for broken parts
        raise ParseError(path, f"corrupt docx: {type(exc).__name__}: {exc}") from exc


def _docx_content(document: DocxDocument) -> Extracted:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.table import Table
    from docx.text.paragraph import Paragraph

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

    # Paragraph style names by style id, as python-docx resolves them (the first style
    # with the id if it is a paragraph style, else the default), read once: python-docx
    # searches the style list for every paragraph, which is quadratic.
    styles = document.styles
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = default.name if default is not None else None
    names: dict[str, str | None] = {}
    for style in styles:
        if style.style_id is not None and style.style_id not in names:
            is_paragraph = style.element.type == WD_STYLE_TYPE.PARAGRAPH
            names[style.style_id] = style.name if is_paragraph else default_name
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style_id = block._p.style
            name = names.get(style_id, default_name) if style_id else default_name
            add(block.text, _docx_heading_level(name or ""))
        elif isinstance(block, Table):
            for row in _docx_table_rows(block):
                add(row, None)
    title = document.core_properties.title or next((h[2] for h in headings), None)
    return Extracted("\n\n".join(parts), title, headings, {})


def _docx_table_rows(table: Table) -> Iterator[str]:
    """Each row's cell texts joined by " | ", cell for cell as python-docx's `row.cells`
    gives them: a cell spanning columns repeated per column, one merged down from the
    row above read as that cell. python-docx finds the cell above by walking up the rows
    for each merged cell, which recursed once per row (RecursionError past 1,000) and was
    quadratic; here each row remembers what starts at each grid column. A merge with no
    cell above (python-docx raises ValueError) reads as an ordinary cell."""
    from docx.table import _Cell

    above: dict[int, tuple[str, int]] = {}  # grid column -> (text, repeats) starting there
    for row in table.rows:
        column = row.grid_cols_before
        starts: dict[int, tuple[str, int]] = {}
        texts: list[str] = []
        for tc in row._tr.tc_lst:
            span = tc.grid_span
            cell = above.get(column) if tc.vMerge == "continue" else None
            if cell is None:
                cell = (_Cell(tc, table).text.strip(), min(span, _DOCX_MAX_SPAN))
            starts.setdefault(column, cell)  # python-docx takes the first
            texts += [cell[0]] * cell[1]
            column += span
        above = starts
        yield " | ".join(texts)


def _docx_heading_level(style: str | None) -> int | None:
    if not style:
        return None
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else None
