"""docs/exploring-the-graph.md as a Neo4j Browser guide (`:play <url>`), rendered from the
doc itself so the two never drift apart.

A guide is an HTML fragment, `<article class="guide">` with one `<slide>` per page;
Neo4j Browser strips scripts and turns `pre.runnable` into "put this in the editor" and
`[data-exec]` into "run this command". Each `##` section of the doc becomes a slide, its
text before the first `##` the title slide; fenced Cypher (and fences of Browser commands,
`:param ...`) become runnable blocks, other fences plain ones. The doc names
`http://localhost:8765`, `kgrag serve`'s default address; the guide says the address it
was fetched from instead. Only the Markdown the doc uses is understood: paragraphs, lists,
`###` headings, fences, inline code, emphasis and links.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

DOC_BASE_URL = "http://localhost:8765"
GRASS_PATH = "/neo4j/kgrag.grass"
GUIDE_PATH = "/neo4j/guide.html"
SKIPPED_SECTION = "Open this guide"  # the doc's steps to open the guide, not a slide

_FENCE = re.compile(r"^```(\w*)\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+(.*)$")
_INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|\*\*(?P<bold>[^*]+)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\s][^*]*)\*(?![\w*])"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
)


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


def render_guide(markdown: str, base_url: str) -> str:
    """The guide HTML of the doc `markdown`, with its addresses pointing at `base_url`."""
    text = markdown.replace(DOC_BASE_URL, base_url.rstrip("/"))
    title, intro, sections = _sections(text)
    style = f"style {base_url.rstrip('/')}{GRASS_PATH}"
    first = (
        f"<h3>{_inline(title)}</h3>"
        f'<p class="lead"><a data-exec="{html.escape(style)}">Load the kgrag style</a>'
        f" (<code>:{html.escape(style)}</code>)</p>",
        _blocks(intro.lines),
    )
    slides = [_slide(*first)]
    slides += [
        _slide(f"<h3>{_inline(s.title)}</h3>", _blocks(s.lines))
        for s in sections
        if not s.title.startswith(SKIPPED_SECTION)
    ]
    body = "\n".join(slides)
    return (
        '<article class="guide">\n<carousel class="deck container-fluid">\n'
        f"{body}\n</carousel>\n</article>\n"
    )


def _sections(markdown: str) -> tuple[str, Section, list[Section]]:
    title = "kgrag"
    intro = Section("")
    sections: list[Section] = []
    current = intro
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            title = line[2:].strip()
            continue
        elif not fenced and line.startswith("## "):
            current = Section(line[3:].strip())
            sections.append(current)
            continue
        current.lines.append(line)
    return title, intro, sections


def _slide(head: str, content: str) -> str:
    return (
        '<slide class="row-fluid">\n'
        f'<div class="col-sm-3">{head}</div>\n'
        f'<div class="col-sm-9">\n{content}\n</div>\n'
        "</slide>"
    )


def _blocks(lines: list[str]) -> str:
    """Paragraphs, lists, `###` headings and fenced code as HTML."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    fence: tuple[str, list[str]] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in lines:
        opening = _FENCE.match(line)
        if fence is not None:
            if opening:
                out.append(_code(*fence))
                fence = None
            else:
                fence[1].append(line)
        elif opening:
            flush()
            fence = (opening[1], [])
        elif not line.strip():
            flush()
        elif line.startswith("### "):
            flush()
            out.append(f"<h4>{_inline(line[4:].strip())}</h4>")
        elif item := _LIST_ITEM.match(line):
            if paragraph:
                flush()
            items.append(item[1])
        elif items and line.startswith("  "):
            items[-1] += " " + line.strip()
        else:
            paragraph.append(line.strip())
    if fence is not None:
        out.append(_code(*fence))
    flush()
    return "\n".join(out)


def _code(lang: str, lines: list[str]) -> str:
    """A fence: runnable when it is Cypher or Browser commands (`:param ...`)."""
    code = "\n".join(lines).strip("\n")
    commands = all(line.startswith(":") for line in lines if line.strip())
    runnable = lang.lower() == "cypher" or (not lang and bool(code) and commands)
    kind = "pre-scrollable code runnable" if runnable else "pre-scrollable code"
    return f'<figure><pre class="{kind}">{html.escape(code, quote=False)}</pre></figure>'


def _inline(text: str) -> str:
    """Escaped text with inline code, bold, emphasis and links."""
    out: list[str] = []
    last = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        if match["code"] is not None:
            out.append(f"<code>{html.escape(match['code'], quote=False)}</code>")
        elif match["bold"] is not None:
            out.append(f"<b>{html.escape(match['bold'], quote=False)}</b>")
        elif match["em"] is not None:
            out.append(f"<em>{html.escape(match['em'], quote=False)}</em>")
        else:
            href = html.escape(match["href"])
            out.append(f'<a href="{href}" target="_blank">{html.escape(match["text"])}</a>')
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)
