"""Bytes to text for the plain-text formats: BOMs, UTF-16 without a BOM, UTF-8 (strict,
then mostly valid with replacement characters), GBK/GB18030, then charset detection."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

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
_SAMPLE_BYTES = 8192
# Characters unlikely in text (controls, unassigned, private use): UTF-16 read in the
# wrong byte order is full of them, and may hold at most this share.
_UNLIKELY = frozenset(("Cc", "Cn", "Co", "Cs"))
_MAX_UNLIKELY_SHARE = 0.02
# Damaged UTF-8 is judged by the share of its non-ASCII characters that decode: with at
# least _MIN_VALID_UTF8_SHARE it is read with replacement characters; with at least
# _MIN_DAMAGED_UTF8_SHARE it is refused; with less, it is taken for a legacy encoding,
# where valid UTF-8 sequences occur only by chance (in under a fifth of the characters of
# GBK, EUC-KR or Shift-JIS text, and hardly ever in Latin-1).
_MIN_VALID_UTF8_SHARE = 0.9
_MIN_DAMAGED_UTF8_SHARE = 0.5
# What "surrogateescape" decodes each invalid byte to.
_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")


class DecodeError(ValueError):
    """The bytes are binary or in no encoding we can identify (the reason is the message)."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Raises DecodeError for binary or undecodable data."""
    decoded = decode_text(data)
    return decoded.text, decoded.encoding


def decode_text(data: bytes) -> Decoded:
    """Text, encoding name and warnings. Raises DecodeError for binary or undecodable data.

    Invalid UTF-8 in a file that is otherwise UTF-8 (a truncated or spliced file) is
    replaced with U+FFFD and reported as a warning, as long as at most 1% of the text is
    replaced and 90% of its non-ASCII characters decode; UTF-8 more damaged than that is
    refused (see `_damaged_utf8`).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(_checked(data.decode(encoding)), encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"undecodable text: bad {encoding} after BOM ({exc})") from exc
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if _looks_binary(data):
        raise DecodeError("binary content, not text")
    try:
        return Decoded(_checked(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError:
        pass
    damaged = _damaged_utf8(data)
    if damaged is not None:
        return damaged
    chinese = _as_gb_chinese(data)
    if chinese is not None:
        return Decoded(chinese, "gb18030")
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DecodeError("undecodable text: not UTF-8 and no known encoding fits")
    return Decoded(_checked(str(best)), best.encoding)


def _utf16_without_bom(data: bytes) -> Decoded | None:
    """UTF-16 text that lacks a BOM, tried only on bytes with NULs (which would otherwise
    be refused as binary). Of the two byte orders, the one whose sample has fewer unlikely
    characters wins: the wrong order turns Chinese into unassigned and private-use code
    points, or unpaired surrogates. On a tie (ASCII text, which reads as CJK backwards),
    the order that puts the NULs in the high byte wins. The winner must be nearly free of
    unlikely characters, hold a space or a line break, and decode whole."""
    sample = data[:_SAMPLE_BYTES]
    if len(data) % 2 or b"\x00" not in sample:
        return None
    orders = ["utf-16-le", "utf-16-be"]
    if sample[0::2].count(0) > sample[1::2].count(0):  # NULs at even offsets: big-endian
        orders.reverse()
    scored = []
    for rank, encoding in enumerate(orders):
        try:  # not final: the sample may end inside a surrogate pair
            head = codecs.getincrementaldecoder(encoding)().decode(sample)
        except UnicodeDecodeError:
            continue
        scored.append((_unlikely_share(head), rank, encoding, head))
    if not scored:
        return None
    share, _, encoding, head = min(scored)
    if share > _MAX_UNLIKELY_SHARE or not any(ch in head for ch in " \n\u3000"):
        return None
    try:
        return Decoded(_checked(data.decode(encoding)), encoding)
    except UnicodeDecodeError:
        return None


def _unlikely_share(text: str) -> float:
    unlikely = sum(
        1 for ch in text if ch not in "\t\n\r\f" and unicodedata.category(ch) in _UNLIKELY
    )
    return unlikely / max(len(text), 1)


def _damaged_utf8(data: bytes) -> Decoded | None:
    """UTF-8 with some invalid bytes, each replaced with U+FFFD, when nearly all of its
    non-ASCII characters decode; None when few do (a legacy encoding). In between, the
    bytes are mostly UTF-8 but too damaged to read: DecodeError, not mojibake."""
    escaped = data.decode("utf-8", "surrogateescape")
    text, invalid = _ESCAPED_BYTE.subn("\ufffd", escaped)
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # >= invalid > 0
    valid_share = (non_ascii - invalid) / non_ascii
    if valid_share < _MIN_DAMAGED_UTF8_SHARE:
        return None
    if valid_share < _MIN_VALID_UTF8_SHARE:
        raise DecodeError(
            f"undecodable text: damaged UTF-8 ({invalid} invalid bytes, "
            f"{non_ascii - invalid} valid non-ASCII characters)"
        )
    warning = f"invalid UTF-8: {invalid} bytes replaced with U+FFFD"
    return Decoded(_checked(text), "utf-8", (warning,))


def _as_gb_chinese(data: bytes) -> str | None:
    """GBK/GB18030 text, when the bytes decode as such and nearly every non-ASCII
    character is in GB2312 (common simplified Chinese and its punctuation). Charset
    detection alone misreads short Chinese texts (as Korean, say); Latin-1 text rarely
    decodes this way, because its accented letters pair with ASCII bytes."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    wide = len(text) - len(text.encode("ascii", "ignore"))
    if not wide:
        return None
    # GB2312 bytes are all >= 0xA1, so each "?" beyond the text's own is a character
    # outside GB2312 (counted in C rather than one encode per character).
    uncommon = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return text if wide - uncommon >= _MIN_GB2312_SHARE * wide else None


def _looks_binary(data: bytes) -> bool:
    sample = data[:_SAMPLE_BYTES]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL)
    return controls > _MAX_CONTROL_SHARE * len(sample)


def _checked(text: str) -> str:
    if text.count("\ufffd") > _MAX_REPLACEMENT_SHARE * max(len(text), 1):
        raise DecodeError("undecodable text: too many replacement characters")
    return text
