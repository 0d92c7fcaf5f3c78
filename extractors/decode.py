"""Bytes to text for the plain-text formats: BOMs, UTF-8, then charset detection."""

from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than tab, newline, form feed and carriage return.
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}
_MAX_CONTROL_SHARE = 0.05
_MAX_REPLACEMENT_SHARE = 0.01
_MIN_GB2312_SHARE = 0.9


class DecodeError(ValueError):
    """The bytes are binary or in no encoding we can identify (the reason is the message)."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Raises DecodeError for binary or undecodable data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise DecodeError(f"undecodable text: bad {encoding} after BOM ({exc})") from exc
    if _looks_binary(data):
        raise DecodeError("binary content, not text")
    try:
        return _checked(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    chinese = _as_gb_chinese(data)
    if chinese is not None:
        return chinese, "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DecodeError("undecodable text: not UTF-8 and no known encoding fits")
    return _checked(str(best)), best.encoding


def _as_gb_chinese(data: bytes) -> str | None:
    """GBK/GB18030 text, when the bytes decode as such and nearly every non-ASCII
    character is in GB2312 (common simplified Chinese and its punctuation). Charset
    detection alone misreads short Chinese texts (as Korean, say); Latin-1 text rarely
    decodes this way, because its accented letters pair with ASCII bytes."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return None
    common = sum(1 for ch in wide if _in_gb2312(ch))
    return text if common >= _MIN_GB2312_SHARE * len(wide) else None


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL)
    return controls > _MAX_CONTROL_SHARE * len(sample)


def _checked(text: str) -> str:
    if text.count("\ufffd") > _MAX_REPLACEMENT_SHARE * max(len(text), 1):
        raise DecodeError("undecodable text: too many replacement characters")
    return text
