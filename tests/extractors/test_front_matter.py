"""YAML front matter names a markdown document and is not indexed as its text."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrag.extractors.front_matter import split_front_matter
from kgrag.extractors.parse import parse_file

HANDBOOK = """---
title: "RAG 工程手册: 第二版"
author: 张三
tags: [rag, 检索]
---

# 第一章 检索

向量检索使用余弦相似度。
"""


def test_front_matter_title_names_the_document_and_is_not_text(tmp_path: Path):
    path = tmp_path / "handbook.md"
    path.write_text(HANDBOOK, encoding="utf-8")
    doc = parse_file(path)
    assert doc.title == "RAG 工程手册: 第二版"
    assert doc.text.startswith("# 第一章 检索")
    assert "author" not in doc.text and "tags:" not in doc.text
    heading_at, level, heading = doc.meta["headings"][0]
    assert (level, heading) == (1, "第一章 检索")
    assert doc.text[heading_at:].startswith("# 第一章")


def test_without_a_title_field_the_first_heading_names_it(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text("---\nlayout: post\n---\n# Radium\n\nMarie Curie found it.\n", "utf-8")
    doc = parse_file(path)
    assert doc.title == "Radium" and doc.text.startswith("# Radium")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("---\ntitle: 'It''s here' # note\n---\nbody", "It's here"),
        ("---\ntitle: plain # a comment\n...\nbody", "plain"),
        ("---\ntitle: >\n  A folded\n  title\ndate: 2024\n---\nbody", "A folded title"),
        ('---\nTitle: "say \\"hi\\""\n---\nbody', 'say "hi"'),
    ],
)
def test_title_scalars(text: str, title: str):
    assert split_front_matter(text) == ("body", title)


@pytest.mark.parametrize(
    "text",
    [
        "---\n\nA paragraph between two rules.\n\n---\nbody",  # no key: not metadata
        "---\ntitle: never closed\nbody",
        "# Heading\n---\ntitle: x\n---\n",  # not at the top
        "---\n" + "key: v\n" * 300 + "---\nbody",  # longer than any front matter
    ],
)
def test_text_without_front_matter_is_unchanged(text: str):
    assert split_front_matter(text) == (text, None)
