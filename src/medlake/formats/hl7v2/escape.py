"""HL7 v2 escape sequences: decoding a leaf value, and encoding text as a leaf value.

Decoded: `\\F\\ \\S\\ \\T\\ \\R\\ \\E\\` (the delimiters), `\\P\\` (truncation, v2.7), `\\Xhh…\\`
(hex bytes, read as UTF-8, else Latin-1). With `text=True` (FT, TX and CF values) the formatting
commands become plain-text layout: `\\.br\\` and `\\.ce\\` a line break, `\\.sp n\\` n line breaks,
`\\.sk n\\` n spaces; `\\.fi\\ \\.nf\\ \\.in\\ \\.ti\\`, highlighting `\\H\\ \\N\\` and charset switches
`\\C…\\ \\M…\\` are dropped. Otherwise those, `\\Z…\\` local escapes and anything unterminated
are kept as written (whole: the escape character that closes one never opens the next). An
escape character that opens no sequence the standard knows is kept as a literal. Decoding
happens after splitting, on leaf values only.
"""

from __future__ import annotations

from medlake.formats.hl7v2.delimiters import Delimiters


def unescape(value: str, d: Delimiters, text: bool = False) -> str:
    esc = d.escape
    if esc not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        j = value.find(esc, i)
        if j < 0:
            out.append(value[i:])
            break
        out.append(value[i:j])
        k = value.find(esc, j + 1)
        if k < 0:  # unterminated: literal
            out.append(value[j:])
            break
        seq = value[j + 1 : k]
        rep = _decode(seq, d, text)
        if rep is not None:
            out.append(rep)
            i = k + 1
        elif _known(seq):  # a sequence the standard defines, not decoded here: kept whole
            out.append(value[j : k + 1])
            i = k + 1
        else:  # not an escape sequence: a stray escape character, kept; the next one may open one
            out.append(value[j:k])
            i = k
    return "".join(out)


def _known(seq: str) -> bool:
    """Whether `seq` (between two escape characters) is one of the standard's sequences."""
    return seq in ("H", "N", "P") or (len(seq) > 1 and seq[0] in "ZCM.") or (seq[:1] == "X" and len(seq) > 1)


def _decode(seq: str, d: Delimiters, text: bool) -> str | None:
    if len(seq) == 1:
        simple = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition, "E": d.escape}
        if seq in simple:
            return simple[seq]
        if seq == "P" and d.truncation:
            return d.truncation
        if seq in "HN":
            return "" if text else None
        return None
    head = seq[0]
    if head == "X" and len(seq) % 2 == 1:
        try:
            raw = bytes.fromhex(seq[1:])
        except ValueError:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    if head in "CM" and text:
        return ""
    if head == "." and text:
        return _format(seq[1:])
    return None


def _format(cmd: str) -> str | None:
    name, arg = cmd[:2], cmd[2:].strip()
    count = int(arg) if arg.lstrip("+-").isdigit() else 1
    if name == "br" or name == "ce":
        return "\n"
    if name == "sp":
        return "\n" * max(count, 1)
    if name == "sk":
        return " " * max(count, 1)
    if name in ("fi", "nf", "in", "ti"):
        return ""
    return None


def escape(value: str, d: Delimiters) -> str:
    """`value` written as a leaf: every delimiter character replaced by its escape sequence,
    and line breaks (which would end the segment) as hex (`\\X0D\\`, `\\X0A\\`)."""
    specials = d.field + d.component + d.repetition + d.escape + d.subcomponent + d.truncation + "\r\n"
    if not any(c in value for c in specials):
        return value
    names = {d.field: "F", d.component: "S", d.subcomponent: "T", d.repetition: "R", d.escape: "E", "\r": "X0D", "\n": "X0A"}
    if d.truncation:
        names[d.truncation] = "P"
    return "".join(f"{d.escape}{names[c]}{d.escape}" if c in names else c for c in value)
