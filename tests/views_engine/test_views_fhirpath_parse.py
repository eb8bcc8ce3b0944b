"""FHIRPath lexer and parser: the AST of good expressions, the exact error of bad ones."""

from __future__ import annotations

import pytest

from medlake.silver.views.engine.errors import FhirPathError
from medlake.silver.views.engine.fhirpath_lex import tokenize
from medlake.silver.views.engine.fhirpath_parse import (
    Binary,
    Call,
    Const,
    Indexer,
    Literal,
    Member,
    This,
    Unary,
    parse,
)


def test_tokens_carry_their_positions() -> None:
    toks = [(t.kind, t.text, t.pos) for t in tokenize("name.where(use = %u)[0]")]
    assert toks == [
        ("ident", "name", 0), ("op", ".", 4), ("ident", "where", 5), ("op", "(", 10),
        ("ident", "use", 11), ("op", "=", 15), ("const", "u", 17), ("op", ")", 19),
        ("op", "[", 20), ("number", "0", 21), ("op", "]", 22), ("end", "", 23),
    ]  # fmt: skip


def test_strings_and_quoted_names_unescape() -> None:
    assert parse(r"'it\'s\n'") == Literal("it's\n")
    assert parse("`div`.x") == Member(Member(None, "div"), "x")
    assert parse("'caf\\u00e9'") == Literal("café")


@pytest.mark.parametrize(
    ("expr", "ast"),
    [
        ("id", Member(None, "id")),
        ("name.family.first()", Call(Member(Member(None, "name"), "family"), "first", (), 12)),
        ("name[1]", Indexer(Member(None, "name"), Literal(1))),
        ("$this", This()),
        ("%rowIndex", Const("rowIndex", 0)),
        ("{}", Literal(None)),
        ("1.5", Literal(1.5)),
        ("true", Literal(True)),
        ("-a", Unary("-", Member(None, "a"))),
        # * binds tighter than +, + tighter than =, = tighter than and, and tighter than or
        ("a + b * c", Binary("+", Member(None, "a"), Binary("*", Member(None, "b"), Member(None, "c")))),
        ("a or b and c = 1", Binary("or", Member(None, "a"), Binary("and", Member(None, "b"), Binary("=", Member(None, "c"), Literal(1))))),
        ("a - b - c", Binary("-", Binary("-", Member(None, "a"), Member(None, "b")), Member(None, "c"))),
        ("(a = 1).not()", Call(Binary("=", Member(None, "a"), Literal(1)), "not", (), 8)),
        ("x.ofType(Quantity)", Call(Member(None, "x"), "ofType", (Member(None, "Quantity"),), 2)),
        ("a // comment\n", Member(None, "a")),
    ],
)  # fmt: skip
def test_good_expressions(expr: str, ast: object) -> None:
    assert parse(expr) == ast


BAD = [
    ("@@", "unexpected character '@' at position 0 in FHIRPath `@@`"),
    ("name.", "expected a name after '.', found end of expression at position 5 in FHIRPath `name.`"),
    ("name.where(use = 'x'", "expected ')', found end of expression at position 20 in FHIRPath `name.where(use = 'x'`"),
    ("name[0", "expected ']', found end of expression at position 6 in FHIRPath `name[0`"),
    ("name.foo()", "unknown function `foo()` (supported: count, empty, exists, extension, first, getReferenceKey, "
     "getResourceKey, hasValue, highBoundary, join, last, lowBoundary, not, ofType, tail, where) "
     "at position 5 in FHIRPath `name.foo()`"),
    ("first(1)", "`first()` takes 0 argument(s), got 1 at position 0 in FHIRPath `first(1)`"),
    ("where()", "`where()` takes 1 argument(s), got 0 at position 0 in FHIRPath `where()`"),
    ("'abc", "unterminated string (no closing ') at position 0 in FHIRPath `'abc`"),
    ("`abc", "unterminated quoted name (no closing `) at position 0 in FHIRPath ``abc`"),
    ("$index", "unsupported variable $index; only $this is supported at position 0 in FHIRPath `$index`"),
    ("%", "expected a name after '%' at position 0 in FHIRPath `%`"),
    ("a b", "unexpected 'b' at position 2 in FHIRPath `a b`"),
    ("a = ", "expected a name, literal or '(', found end of expression at position 4 in FHIRPath `a = `"),
    (r"'a\qb'", r"unknown escape \q at position 2 in FHIRPath `'a\qb'`"),
    ("/* open", "unterminated comment at position 0 in FHIRPath `/* open`"),
    ("", "empty expression at position 0 in FHIRPath ``"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "message"), BAD)
def test_bad_expressions_name_the_position(expr: str, message: str) -> None:
    with pytest.raises(FhirPathError) as info:
        parse(expr)
    assert info.value.message == message
    assert info.value.context["expression"] == expr
