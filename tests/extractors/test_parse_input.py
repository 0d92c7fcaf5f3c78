from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest

from kgrag.core.errors import ParseError
from kgrag.extractors.parse import SUPPORTED_SUFFIXES, parse_file, parse_text
from tests.extractors.ex_helpers import pdf_bytes


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def reason_of(path: Path, **kwargs) -> str:
    with pytest.raises(ParseError) as info:
        parse_file(path, **kwargs)
    assert info.value.path == str(path)
    assert str(info.value) == f"{path}: {info.value.reason}"
    return info.value.reason


def test_parse_error_pickles_with_path_and_reason():
    error = pickle.loads(pickle.dumps(ParseError("/x/a.pdf", "encrypted PDF")))
    assert (error.path, error.reason, str(error)) == ("/x/a.pdf", "encrypted PDF",
                                                     "/x/a.pdf: encrypted PDF")


def test_supported_suffixes():
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"} == SUPPORTED_SUFFIXES


def test_txt_document_fields_and_stable_id(tmp_path):
    path = write(tmp_path, "notes.txt", "Marie Curie discovered radium.\r\nShe won prizes.\n")
    doc = parse_file(path)
    assert doc.text == "Marie Curie discovered radium.\nShe won prizes.\n"
    assert doc.title == "notes" and doc.lang == "en"
    assert doc.meta["format"] == "text" and doc.meta["encoding"] == "utf-8"
    assert doc.meta["path"] == path.resolve().as_posix() == doc.path
    assert doc.meta["mtime"] == path.stat().st_mtime
    import hashlib

    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert parse_file(path).id == doc.id
    path.write_text("Something else entirely.", encoding="utf-8")
    assert parse_file(path).id != doc.id


def test_gbk_and_utf16_encodings_are_detected(tmp_path):
    gbk = parse_file(write(tmp_path, "gbk.txt", "北京是中国的首都。".encode("gbk")))
    assert gbk.text == "北京是中国的首都。" and gbk.lang == "zh"
    assert gbk.meta["encoding"] == "gb18030"
    utf16 = parse_file(write(tmp_path, "u16.txt", "Hello 世界, Unicode text.".encode("utf-16")))
    assert utf16.text == "Hello 世界, Unicode text." and utf16.meta["encoding"] == "utf-16"


def test_markdown_title_and_headings(tmp_path):
    text = "# Radium\n\nIntro text.\n\n## History\n\n```\n# not a heading\n```\nSetext\n---\n"
    doc = parse_file(write(tmp_path, "r.md", text))
    assert doc.title == "Radium"
    assert [(level, t) for _, level, t in doc.meta["headings"]] == [
        (1, "Radium"), (2, "History"), (2, "Setext")
    ]
    for offset, _, heading in doc.meta["headings"]:
        assert doc.text[offset:].lstrip("# ").startswith(heading)


def test_html_keeps_main_text_and_drops_navigation(tmp_path):
    html = """<html><head><title>Curie page</title><style>p {color: red}</style></head>
    <body><nav>Home | About</nav><header>Site header</header>
    <main><h1>Marie Curie</h1><p>She discovered <b>radium</b>.</p>
    <script>var x = 1;</script><h2>Life</h2><p>Born in Warsaw.</p></main>
    <footer>Copyright</footer></body></html>"""
    doc = parse_file(write(tmp_path, "c.html", html))
    assert doc.title == "Curie page"
    assert doc.text == "Marie Curie\n\nShe discovered radium.\n\nLife\n\nBorn in Warsaw."
    for banned in ("Home", "Site header", "var x", "color", "Copyright"):
        assert banned not in doc.text
    assert [(doc.text[o : o + len(t)], lvl) for o, lvl, t in doc.meta["headings"]] == [
        ("Marie Curie", 1), ("Life", 2)
    ]


def test_pdf_text_layer_and_title(tmp_path):
    doc = parse_file(write(tmp_path, "c.pdf", pdf_bytes("Radium glows.", title="Curie")))
    assert doc.text == "Radium glows." and doc.title == "Curie" and doc.meta["format"] == "pdf"
    assert doc.meta["pages"] == 1


def test_docx_paragraphs_headings_and_title(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Polonium", level=1)
    document.add_paragraph("Named after Poland.")
    document.add_heading("Discovery", level=2)
    document.add_paragraph("Found in 1898.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Po"
    table.rows[0].cells[1].text = "84"
    path = tmp_path / "p.docx"
    document.save(str(path))
    doc = parse_file(path)
    assert doc.title == "Polonium"
    assert doc.text == "Polonium\n\nNamed after Poland.\n\nDiscovery\n\nFound in 1898.\n\nPo | 84"
    assert [(o, lvl, t) for o, lvl, t in doc.meta["headings"]] == [
        (0, 1, "Polonium"), (31, 2, "Discovery")
    ]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("latin.txt", bytes(range(0x80, 0x100)) * 4, "undecodable"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage\n%%EOF", "corrupt PDF"),
        ("fake.pdf", b"just text, not a pdf", "corrupt PDF"),
        ("notzip.docx", b"plain bytes", "not a zip"),
        ("data.xyz", b"hello", "unsupported file type"),
    ],
)
def test_bad_input_raises_parse_error(tmp_path, name, data, expected):
    assert expected in reason_of(write(tmp_path, name, data))


def test_encrypted_pdf_is_refused(tmp_path):
    path = write(tmp_path, "secret.pdf", pdf_bytes("Top secret.", password="s3cret"))
    assert "encrypted PDF" in reason_of(path)


def test_zip_that_is_not_docx(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "zip archive is not a docx" in reason_of(path)


def test_too_large_by_configurable_limit(tmp_path):
    path = write(tmp_path, "big.txt", "x" * 100)
    assert "too large" in reason_of(path, max_bytes=10)
    assert parse_file(path, max_bytes=100).text == "x" * 100


def test_missing_file(tmp_path):
    assert "cannot read" in reason_of(tmp_path / "missing.txt")


def test_parse_text_for_in_memory_passages():
    doc = parse_text("张三在北京大学工作。", path="bench/1", title="张三")
    assert (doc.path, doc.title, doc.lang, doc.meta["format"]) == ("bench/1", "张三", "zh", "text")
    assert doc.id == parse_text("张三在北京大学工作。", path="bench/1", title="x").id
    with pytest.raises(ParseError, match="bench/2: empty text"):
        parse_text("   ", path="bench/2", title="")
