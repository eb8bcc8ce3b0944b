"""Bytes → text for the text formats: byte-order marks, UTF-16 sniffing, strict decoding.

Undecodable bytes raise `ParseError` naming the line, the byte offset and the bytes
themselves, and saying which `encoding` option to declare.
"""

from __future__ import annotations

import codecs

from medlake.errors import ParseError
from medlake.formats.problems import line_position

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be", "utf-16-be"),
)


def detect_encoding(data: bytes) -> tuple[str, int, str]:
    """(codec, BOM length, label) from a byte-order mark or the NUL pattern of UTF-16."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return codec, len(bom), label
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    half = len(sample) // 2
    if half >= 2:
        even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
        if odd_nuls > half // 2 and even_nuls * 10 < half:
            return "utf-16-le", 0, "utf-16-le"
        if even_nuls > half // 2 and odd_nuls * 10 < half:
            return "utf-16-be", 0, "utf-16-be"
    return "utf-8", 0, "utf-8"


def decode_text(data: bytes, encoding: str, name: str) -> tuple[str, str]:
    """Decode `data` strictly; return (text, encoding label). Undecodable bytes raise."""
    if encoding == "auto":
        codec, skip, label = detect_encoding(data)
    else:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ParseError(
                f"`{name}`: unknown encoding `{encoding}`; use `auto` or a Python codec name "
                "such as `utf-8`, `cp1252` or `latin-1`",
                file=name,
            ) from None
        skip = 3 if codec == "utf-8" and data.startswith(_BOMS[0][0]) else 0
        label = "utf-8-sig" if skip else codec
    try:
        return data[skip:].decode(codec), label
    except UnicodeDecodeError as exc:
        raise _decode_error(data, skip, codec, exc, name) from None


def _decode_error(
    data: bytes, skip: int, codec: str, exc: UnicodeDecodeError, name: str
) -> ParseError:
    offset = skip + exc.start
    bad = data[offset : skip + max(exc.end, exc.start + 2)]
    shown = " ".join(f"0x{b:02X}" for b in bad)
    noun, verb = ("byte", "is") if len(bad) == 1 else ("bytes", "are")
    prefix = data[skip:offset].decode(codec, errors="replace")
    breaks = prefix.count("\n") if "\n" in prefix else prefix.count("\r")
    line = breaks + 1
    return ParseError(
        f"`{name}`: line {line:,}: {noun} {shown} at offset {offset:,} {verb} not valid "
        f"{codec.upper()}; declare `encoding: cp1252` (or the feed's real encoding) in the "
        "source's format options",
        file=name,
        line=line,
        offset=offset,
        position=line_position(line),
    )
