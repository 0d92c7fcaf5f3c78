"""Files (and in-memory text) to Documents. Bad input raises ParseError naming the file."""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kgrag.core.errors import ParseError
from kgrag.core.ids import document_id, normalised_path
from kgrag.core.types import Document
from kgrag.extractors.lang import detect_lang
from kgrag.extractors.readers import (
    Extracted,
    read_docx,
    read_html,
    read_markdown,
    read_pdf,
    read_text,
)

_READERS: dict[str, tuple[str, Callable[[str, bytes], Extracted]]] = {
    ".txt": ("text", read_text),
    ".md": ("markdown", read_markdown),
    ".markdown": ("markdown", read_markdown),
    ".html": ("html", read_html),
    ".htm": ("html", read_html),
    ".pdf": ("pdf", read_pdf),
    ".docx": ("docx", read_docx),
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS)
DEFAULT_MAX_BYTES = 50_000_000
# Language detection reads a prefix: enough to decide, cheap on long documents.
_LANG_SAMPLE_CHARS = 20_000


def parse_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read one file. Raises ParseError (and nothing else, whatever the bytes) for
    unsupported suffixes, names that are not UTF-8, anything but a regular file, files
    over `max_bytes`, empty, binary or undecodable text, encrypted, corrupt or too costly
    PDFs, zips that are not docx or inflate too far, HTML with too many elements, and
    files with no text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise ParseError(path, f"unsupported file type {suffix or '(none)'!r} ({supported})")
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name: ids and stores need UTF-8
        printable = str(path).encode("utf-8", "backslashreplace").decode("utf-8")
        raise ParseError(printable, "file name is not valid UTF-8") from None
    data, stat = _read(path, max_bytes)
    if not data.strip():
        raise ParseError(path, "empty file")
    fmt, reader = _READERS[suffix]
    extracted = reader(str(path), data)
    text = _clean(extracted.text)
    if not text.strip():
        raise ParseError(path, "no text content")
    norm_path = normalised_path(path)
    sha = hashlib.sha256(data).hexdigest()
    title = (extracted.title or "").strip() or path.stem
    lang = detect_lang(text[:_LANG_SAMPLE_CHARS])
    meta = {
        "path": norm_path,
        "mtime": stat.st_mtime,
        "mtime_ns": stat.st_mtime_ns,
        "size": len(data),
        "title": title,
        "lang": lang,
        "format": fmt,
        "headings": extracted.headings,
        **extracted.meta,
    }
    return Document(
        id=document_id(norm_path, sha),
        path=norm_path,
        title=title,
        lang=lang,
        text=text,
        sha256=sha,
        meta=meta,
    )


def _read(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `max_bytes`. The file is opened without
    blocking and checked before it is read: a FIFO named like a document would block
    forever, and a device (a link to /dev/zero) would be read without end."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        stat = os.fstat(fd)
        if not stat_module.S_ISREG(stat.st_mode):
            raise ParseError(path, "not a regular file")
        if stat.st_size > max_bytes:
            raise ParseError(path, f"too large: {stat.st_size} bytes > limit {max_bytes}")
        with open(fd, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # the file grew between stat and read
        raise ParseError(path, f"too large: over the limit of {max_bytes} bytes")
    return data, stat


def parse_text(text: str, *, path: str, title: str) -> Document:
    """A Document from text already in memory (benchmark passages, API uploads).
    `path` is used as given (it may be a logical name such as "musique/123")."""
    text = _clean(text)
    if not text.strip():
        raise ParseError(path, "empty text")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lang = detect_lang(text[:_LANG_SAMPLE_CHARS])
    meta: dict[str, Any] = {
        "path": path,
        "mtime": None,
        "size": len(text.encode("utf-8")),
        "title": title,
        "lang": lang,
        "format": "text",
        "headings": [],
    }
    return Document(
        id=document_id(path, sha), path=path, title=title, lang=lang, text=text, sha256=sha,
        meta=meta,
    )


def _clean(text: str) -> str:
    """Line ends to \\n and NULs dropped; nothing else, so offsets stay meaningful."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
