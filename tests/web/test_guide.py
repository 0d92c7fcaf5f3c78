"""The Neo4j Browser guide is docs/exploring-the-graph.md rendered: every Cypher example of
the doc is a runnable block, slides are well formed, addresses are the server's own."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from kgrag.server.web import GRASS, GUIDE_DOC
from kgrag.server.web.guide import render_guide
from tests.conftest import REPO

DOC = REPO / "docs" / "exploring-the-graph.md"
BASE = "http://kg.example:9000"
RUNNABLE = re.compile(r'<pre class="pre-scrollable code runnable">(.*?)</pre>', re.S)
VOID = {"br", "hr", "img", "input", "meta", "link"}


class TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.slides = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag)
        self.slides += tag == "slide"

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
        else:
            self.open.pop()


def _guide() -> str:
    return render_guide(DOC.read_text(encoding="utf-8"), BASE + "/")


def test_the_packaged_guide_files_are_the_doc_and_the_style():
    assert GUIDE_DOC.resolve() == DOC.resolve()
    assert GRASS.resolve() == (REPO / "infra" / "neo4j" / "kgrag.grass").resolve()


def test_every_cypher_example_of_the_doc_is_a_runnable_block():
    doc = DOC.read_text(encoding="utf-8")
    examples = [b.strip() for b in re.findall(r"^```cypher\n(.*?)^```", doc, re.S | re.M)]
    assert len(examples) >= 7
    runnable = [html.unescape(b) for b in RUNNABLE.findall(_guide())]
    assert [e for e in examples if e not in runnable] == []
    fences = re.findall(r"^```\n(:.*?)^```", doc, re.S | re.M)
    commands = [b.strip() for b in fences if not b.startswith(":play")]  # :play: not a slide
    assert commands and [c for c in commands if c not in runnable] == []  # `:param ...` too
    assert not any(b.startswith("(:Document") for b in runnable)  # the model is not a query


def test_the_guide_is_slides_of_balanced_html():
    text = _guide()
    assert text.startswith('<article class="guide">') and "<script" not in text
    parser = TagBalance()
    parser.feed(text)
    assert parser.errors == [] and parser.open == []
    sections = re.findall(r"^## (.*)$", DOC.read_text(encoding="utf-8"), re.M)
    shown = [s for s in sections if not s.startswith("Open this guide")]
    assert parser.slides == len(shown) + 1  # a title slide, then one per section
    for title in shown:
        assert f"<h3>{html.escape(title, quote=False)}</h3>" in text


def test_the_guide_names_the_server_it_came_from():
    text = _guide()
    assert "localhost:8765" not in text
    assert f'data-exec="style {BASE}/neo4j/kgrag.grass"' in text  # one click loads the style
    assert ":play" not in text  # the doc's steps to open the guide are not a slide


def test_markdown_is_escaped_and_inline_marks_kept():
    md = (
        "# T <x>\n\nintro `a<b>` and **bold** & *em*, [link](http://a.example/?q=1&r=2)\n\n"
        "## S\n\n- one `x`\n- two\n  continued\n\n### Sub\n\n```cypher\nMATCH (n) RETURN n\n```\n"
    )
    text = render_guide(md, "http://h/")
    assert "<h3>T &lt;x&gt;</h3>" in text
    assert "<code>a&lt;b&gt;</code>" in text and "<b>bold</b> &amp; <em>em</em>" in text
    assert '<a href="http://a.example/?q=1&amp;r=2" target="_blank">link</a>' in text
    assert "<ul><li>one <code>x</code></li><li>two continued</li></ul>" in text
    assert "<h4>Sub</h4>" in text and RUNNABLE.findall(text) == ["MATCH (n) RETURN n"]


def test_a_missing_doc_section_still_renders(tmp_path: Path):
    assert "<slide" in render_guide("no headings at all\n", "http://h")
