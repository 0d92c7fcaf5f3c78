"""YAML front matter of a markdown file (Jekyll, Hugo, Obsidian, MkDocs): a block between
`---` lines at the very top. It is metadata, not body text: its `title:` names the
document, and the rest is not indexed.

Only the `title` scalar is read, line by line, without a YAML parser: a hostile block
(alias bombs, deep nesting) costs no more than reading its lines.
"""

from __future__ import annotations

import re

MAX_LINES = 200  # a longer "block" is a document that starts with a rule, not metadata
_OPEN = re.compile(r"---[ \t]*\n")
_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*")
_KEY = re.compile(r"[A-Za-z_][\w-]*[ \t]*:(?:[ \t]|$)")
_TITLE = re.compile(r"title[ \t]*:[ \t]*(.*)", re.IGNORECASE)


def split_front_matter(text: str) -> tuple[str, str | None]:
    """(text without its front matter, the front matter's title or None). Text without
    front matter comes back unchanged."""
    opening = _OPEN.match(text)
    if opening is None:
        return text, None
    pos = opening.end()
    block: list[str] = []
    for _ in range(MAX_LINES):
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if _CLOSE.fullmatch(line):
            if not any(_KEY.match(item) for item in block):
                return text, None
            body = "" if end < 0 else text[end + 1 :]
            return body.lstrip("\n"), _title(block)
        if end < 0:
            break
        block.append(line)
        pos = end + 1
    return text, None


def _title(block: list[str]) -> str | None:
    for n, line in enumerate(block):
        match = _TITLE.match(line)
        if match is None:
            continue
        value = match.group(1).strip()
        if value[:1] in (">", "|"):  # folded or literal: the indented lines below
            more = [item.strip() for item in _indented(block[n + 1 :])]
            value = (" " if value[0] == ">" else "\n").join(more).strip()
        return _scalar(value) or None
    return None


def _indented(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.strip() and not line[:1].isspace():
            break
        out.append(line)
    return out


def _scalar(value: str) -> str:
    """A one-line YAML scalar: a quoted one up to its closing quote ('' and \\"
    unescaped), or a plain one without its trailing comment."""
    quote = value[:1]
    if quote == "'":
        closing = re.match(r"'((?:[^']|'')*)'", value)
        return closing.group(1).replace("''", "'").strip() if closing else value
    if quote == '"':
        closing = re.match(r'"((?:[^"\\]|\\.)*)"', value)
        return re.sub(r"\\(.)", r"\1", closing.group(1)).strip() if closing else value
    return re.split(r"[ \t]+#", value, maxsplit=1)[0].strip()
