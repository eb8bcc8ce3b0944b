"""FHIRPath lexer: expression text -> tokens with their positions.

Covers the subset SQL-on-FHIR v2 needs: identifiers (plain and `backquoted`), 'strings' with
escapes, integers and decimals, %constants, $this/$index/$total, punctuation and operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from medlake.silver.views.engine.errors import FhirPathError

Kind = Literal["ident", "name", "string", "number", "const", "dollar", "op", "end"]

_OPERATORS = ("<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", ",", "=", "~", "<", ">", "+", "-", "*", "/", "|", "&", "{", "}")
_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    pos: int


def tokenize(expr: str) -> list[Token]:
    """All tokens of `expr`, ending with an `end` token; raises `FhirPathError` at a bad character."""
    tokens: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
        elif c == "/" and expr.startswith("//", i):
            i = _skip_to(expr, "\n", i)
        elif c == "/" and expr.startswith("/*", i):
            end = expr.find("*/", i + 2)
            if end < 0:
                raise FhirPathError("unterminated comment", expr, i)
            i = end + 2
        elif c.isalpha() or c == "_":
            j = _word_end(expr, i)
            tokens.append(Token("ident", expr[i:j], i))
            i = j
        elif c == "`":
            text, j = _quoted(expr, i, "`")
            tokens.append(Token("name", text, i))  # a `quoted` name is never a keyword
            i = j
        elif c == "'":
            text, j = _quoted(expr, i, "'")
            tokens.append(Token("string", text, i))
            i = j
        elif c.isdigit():
            j = _number_end(expr, i)
            tokens.append(Token("number", expr[i:j], i))
            i = j
        elif c in "%$":
            i = _variable(expr, i, tokens)
        else:
            op = next((o for o in _OPERATORS if expr.startswith(o, i)), None)
            if op is None:
                raise FhirPathError(f"unexpected character {c!r}", expr, i)
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("end", "", n))
    return tokens


def _skip_to(expr: str, stop: str, i: int) -> int:
    end = expr.find(stop, i)
    return len(expr) if end < 0 else end + 1


def _word_end(expr: str, i: int) -> int:
    j = i
    while j < len(expr) and (expr[j].isalnum() or expr[j] == "_"):
        j += 1
    return j


def _number_end(expr: str, i: int) -> int:
    j = i
    while j < len(expr) and expr[j].isdigit():
        j += 1
    if j + 1 < len(expr) and expr[j] == "." and expr[j + 1].isdigit():
        j += 1
        while j < len(expr) and expr[j].isdigit():
            j += 1
    return j


def _quoted(expr: str, start: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(expr):
        c = expr[i]
        if c == quote:
            return "".join(out), i + 1
        if c == "\\" and i + 1 < len(expr):
            nxt = expr[i + 1]
            if nxt == "u" and i + 5 < len(expr):
                out.append(chr(int(expr[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt not in _ESCAPES:
                raise FhirPathError(f"unknown escape \\{nxt}", expr, i)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    what = "string" if quote == "'" else "quoted name"
    raise FhirPathError(f"unterminated {what} (no closing {quote})", expr, start)


def _variable(expr: str, i: int, tokens: list[Token]) -> int:
    kind: Kind = "const" if expr[i] == "%" else "dollar"
    if kind == "const" and i + 1 < len(expr) and expr[i + 1] in "`'":
        text, j = _quoted(expr, i + 1, expr[i + 1])
        tokens.append(Token(kind, text, i))
        return j
    j = _word_end(expr, i + 1)
    if j == i + 1:
        raise FhirPathError(f"expected a name after {expr[i]!r}", expr, i)
    tokens.append(Token(kind, expr[i + 1 : j], i))
    return j
