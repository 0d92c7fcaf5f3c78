"""A corpus of hostile files (and a few good ones) for the parser hardening tests.

Each case is (file name, bytes, expectation): `parsed(start)` for a file that must parse
to a text beginning with `start`, else a fragment of the ParseError reason it must raise.
Bytes are built here, so the corpus costs a few seconds and a few MB of disk; the zip
bomb declares 1.5 GB but is 1.5 MB.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from tests.extractors.ex_helpers import pdf_bytes

Case = tuple[str, bytes, str]
PARSED = "parsed: "


def parsed(start: str) -> str:
    """The expectation of a file that parses to a text beginning with `start`."""
    return PARSED + start

_MIB = 1 << 20


# ----------------------------------------------------------------------------- zip
def _zip_bytes(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of already deflated entries: (name, raw deflate data, CRC-32,
    uncompressed size). Written by hand, because zipfile would have to deflate a bomb's
    1.5 GB itself (seconds); here its data is one deflated MiB repeated."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, data, crc, size in entries:
        raw = name.encode()
        offset = out.tell()
        # version 20, no flags, deflate, DOS time 0 and date 1980-01-01
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc,
                              len(data), size, len(raw), 0))
        out.write(raw)
        out.write(data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                  crc, len(data), size, len(raw), 0, 0, 0, 0, 0, offset))
        central.write(raw)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                          len(directory), start, 0))
    return out.getvalue()


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def _zeros_deflated(size_mib: int) -> tuple[bytes, int, int]:
    """Raw deflate data, CRC-32 and size of `size_mib` MiB of zeros. One MiB deflated from a
    fresh state and full-flushed refers to nothing before it, so copies of it chain into
    one valid stream, closed by an empty final block."""
    zeros = bytes(_MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size_mib):
        crc = zlib.crc32(zeros, crc)
    return block * size_mib + b"\x03\x00", crc, size_mib * _MIB


def docx_bytes(*paragraphs: str, heading: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_with_document_xml(document_xml: bytes | None, *, zeros_mib: int = 0) -> bytes:
    """A real docx whose word/document.xml is replaced: by `document_xml`, or by
    `zeros_mib` MiB of zeros (a zip bomb: 1,536 MiB deflate to 1.5 MB)."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(docx_bytes("placeholder"))) as archive:
        for info in archive.infolist():
            if info.filename != "word/document.xml":
                entries.append((info.filename, *_deflated(archive.read(info))))
            elif document_xml is None:
                entries.append((info.filename, *_zeros_deflated(zeros_mib)))
            else:
                entries.append((info.filename, *_deflated(document_xml)))
    return _zip_bytes(entries)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_document_xml(body: str) -> bytes:
    return f'<?xml version="1.0"?><w:document {_W}><w:body>{body}</w:body></w:document>'.encode()


def docx_merged_table(rows: int) -> bytes:
    """A one-column table whose cell is merged down `rows` rows (python-docx walked up one
    row per row per cell: recursion and quadratic time)."""
    first = ('<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>'
             "<w:p><w:r><w:t>Top</w:t></w:r></w:p></w:tc></w:tr>")
    rest = "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * (rows - 1)
    return docx_with_document_xml(docx_document_xml(f"<w:tbl>{first}{rest}</w:tbl>"))


def docx_wide_span() -> bytes:
    """A cell claiming to span two billion columns (python-docx repeats it per column)."""
    cell = ('<w:tc><w:tcPr><w:gridSpan w:val="2000000000"/></w:tcPr>'
            "<w:p><w:r><w:t>Wide</w:t></w:r></w:p></w:tc>")
    return docx_with_document_xml(docx_document_xml(f"<w:tbl><w:tr>{cell}</w:tr></w:tbl>"))


# ----------------------------------------------------------------------------- pdf
def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of numbered objects (1 is the catalog) with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def _flate_stream(data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)


def pdf_shared_pages(kids: int, grandkids: int, content: bytes) -> bytes:
    """kids × grandkids pages: one page object, listed `grandkids` times by one page-tree
    node that is itself listed `kids` times, drawing one shared content stream. A file of
    a few kilobytes, and hours of text extraction."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" 3 0 R" * kids, kids * grandkids),
        b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>"
        % (b" 4 0 R" * grandkids, grandkids),
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _flate_stream(content),
    ])


def encrypted_pdf(user_password: str, owner_password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt(user_password, owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- corpus
def corpus() -> Iterator[Case]:
    """Every case, hostile and good, with what parse_file must do with it."""
    english = "Marie Curie discovered radium in Paris. She won two Nobel prizes.\n"
    chinese = "居里夫人在巴黎发现了镭。她两次获得诺贝尔奖。\n"
    good_pdf = pdf_bytes("Radium glows in the dark.", title="Radium")
    sentences = b"Mr. Smith went to Washington. " * 35_000  # 1 MB on one line

    # good files, one per format, and Chinese file names
    yield "good.txt", english.encode(), parsed(english)
    yield "good.md", f"# Radium\n\n{english}".encode(), parsed("# Radium\n\nMarie")
    html = f"<html><body><h1>Radium</h1><p>{english}</p></body></html>"
    yield "good.html", html.encode(), parsed("Radium\n\nMarie")
    yield "good.pdf", good_pdf, parsed("Radium glows in the dark.")
    yield "good.docx", docx_bytes(english, heading="Radium"), parsed("Radium\n\nMarie")
    yield "居里夫人.txt", chinese.encode(), parsed(chinese)
    yield "镭.md", f"# 镭\n\n{chinese}".encode(), parsed(f"# 镭\n\n{chinese}")

    # text in encodings without a BOM, and UTF-8 with a few bad bytes
    yield "gbk.txt", (chinese * 20).encode("gbk"), parsed(chinese * 20)
    yield "gb18030.md", ("# 标题\n\n" + chinese * 20).encode("gb18030"), parsed("# 标题\n\n居里")
    yield "utf16le.txt", (english * 5).encode("utf-16-le"), parsed(english * 5)
    yield "utf16be.txt", (english * 5).encode("utf-16-be"), parsed(english * 5)
    yield "utf16le-zh.txt", (chinese * 5).encode("utf-16-le"), parsed(chinese * 5)
    damaged = (chinese * 50).encode()[:-1] + b"\xff" + english.encode()
    yield "damaged-utf8.txt", damaged, parsed(chinese * 49 + chinese[:-1] + "\ufffdMarie")

    # text that is not text, or nothing
    yield "empty.txt", b"", "empty file"
    yield "blank.md", b" \n\t\r\n   \n", "empty file"
    yield "binary.txt", bytes(range(256)) * 64, "binary"
    yield "elf.md", b"\x7fELF\x02\x01\x01" + bytes(4000), "binary"
    yield "random-high.txt", bytes((i * 7919) % 128 + 128 for i in range(50_000)), "undecodable"
    yield "zip.txt", docx_bytes("zipped"), "binary"

    # huge or pathological text and markdown
    yield "one-line.txt", sentences, parsed("Mr. Smith went")
    yield "no-spaces.txt", b"Mr.Smith.went.to.Washington." * 37_000, parsed("Mr.Smith.went")
    yield "dots.txt", b"." * 1_000_000, parsed("....")
    yield "zh-no-stops.txt", ("中文没有句号" * 60_000).encode(), parsed("中文没有句号中文")
    yield "newlines.md", b"\n" * 500_000 + b"text", parsed("\n\n\n")
    headings = b"".join(b"# Heading %d\n\nText.\n\n" % i for i in range(100_000))
    yield "headings.md", headings, parsed("# Heading 0\n\nText.")
    fences = b"".join(b"# H%d\n```\ncode\n```\n" % i for i in range(50_000))
    yield "fences.md", fences, parsed("# H0\n```")
    yield "big-fence.md", b"# Code\n\n```\n" + b"x = 1\n" * 170_000 + b"```\n", parsed("# Code")
    yield "long-atx.md", b"# a" + b" " * 300_000 + b"b\n", parsed("# a    ")
    yield "long-setext.md", b"x" * 1_000_000 + b"\n", parsed("xxxx")

    # HTML
    deep = "<div>" * 10_000 + "Deep text." + "</div>" * 10_000
    yield "deep.html", f"<html><body>{deep}</body></html>".encode(), parsed("Deep text.")
    yield "deep-inline.html", ("<b>" * 100_000 + "Deep bold.").encode(), parsed("Deep bold.")
    siblings = ("<p>Sibling.</p>" * 100_000).encode()
    yield "siblings.html", siblings, parsed("Sibling.\n\nSibling.")
    yield "one-line.html", b"<p>" + sentences + b"</p>", parsed("Mr. Smith went")
    yield "too-many-tags.html", b"<b>x</b>" * 400_000, "too many HTML elements"
    attributes = "<p " + " ".join(f"a{i}" for i in range(300_000)) + ">Attributes.</p>"
    yield "attributes.html", attributes.encode(), parsed("Attributes.")
    yield "unclosed-attr.html", b"<p>Start.</p>" + b"<a b='" * 20_000, parsed("Start.")
    yield "unclosed-tags.html", b"<p>Start.</p>" + b"<a\n" * 20_000, parsed("Start.")
    marked = b"<html><body><![foo[ x ]]>Marked.</body></html>"  # html.parser rejected it
    yield "marked-section.html", marked, parsed("Marked.")
    yield "scripts-only.html", b"<script>x</script>" * 10_000, "no text content"

    # PDF
    yield "truncated.pdf", good_pdf[: len(good_pdf) // 2], "corrupt PDF"
    yield "garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 100, "corrupt PDF"
    yield "zip.pdf", docx_bytes("zipped"), "corrupt PDF: no %PDF header"
    yield "zip-after-header.pdf", b"%PDF-1.4\n" + docx_bytes("zipped"), "corrupt PDF"
    yield "encrypted.pdf", encrypted_pdf("secret"), "encrypted PDF"
    yield "owner-only.pdf", encrypted_pdf("", "owner"), "no text layer"  # opens, blank
    cycle = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
    yield "page-cycle.pdf", raw_pdf(cycle), "corrupt PDF"
    nested = b"<< /Type /Catalog /X " + b"[" * 100_000 + b"]" * 100_000 + b" >>"
    yield "deep-array.pdf", raw_pdf([nested]), "corrupt PDF"
    text_ops = b"BT /F1 12 Tf 72 720 Td " + b"(Hello world.) Tj 0 -14 Td " * 200 + b"ET"
    yield "shared-pages.pdf", pdf_shared_pages(100, 500, text_ops), "PDF too costly"
    yield "content-bomb.pdf", pdf_shared_pages(1, 1, b"0 0 m " * 12_000_000), "PDF too costly"

    # docx
    yield "not-zip.docx", b"This is plain text, not a zip archive.", "not a zip archive"
    yield "empty-zip.docx", _zip_bytes([]), "not a docx"
    yield "truncated.docx", docx_bytes(english)[:2000], "corrupt docx"
    yield "pdf.docx", good_pdf, "not a zip archive"
    yield "zip-bomb.docx", docx_with_document_xml(None, zeros_mib=1536), "uncompressed size"
    dense = docx_document_xml("<w:p/>" * 6_000_000)
    yield "xml-bomb.docx", docx_with_document_xml(dense), "uncompressed XML size"
    yield "bad-xml.docx", docx_with_document_xml(b"<w:document><w:body>"), "corrupt docx"
    deep_xml = docx_document_xml("<w:p>" * 5000 + "</w:p>" * 5000)
    yield "deep-xml.docx", docx_with_document_xml(deep_xml), "corrupt docx"
    yield "merged-rows.docx", docx_merged_table(5000), parsed("Top\n\nTop")
    yield "wide-span.docx", docx_wide_span(), parsed("Wide | Wide")


def write_corpus(folder: Path) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data, expected in corpus():
        path = folder / name
        path.write_bytes(data)
        written.append((path, expected))
    return written
