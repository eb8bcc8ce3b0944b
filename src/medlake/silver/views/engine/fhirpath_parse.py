"""FHIRPath parser: tokens -> a small AST (precedence climbing over the spec's operator table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medlake.silver.views.engine.errors import FhirPathError
from medlake.silver.views.engine.fhirpath_lex import Token, tokenize


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # None is the empty collection `{}`


@dataclass(frozen=True, slots=True)
class Const:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class This:
    pass


@dataclass(frozen=True, slots=True)
class Member:
    target: Node | None  # None: the current focus
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    target: Node | None
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Indexer:
    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node


Node = Literal | Const | This | Member | Call | Indexer | Binary | Unary

FUNCTIONS: dict[str, tuple[int, int]] = {
    "where": (1, 1), "exists": (0, 1), "empty": (0, 0), "first": (0, 0), "last": (0, 0),
    "not": (0, 0), "ofType": (1, 1), "extension": (1, 1), "join": (0, 1), "lowBoundary": (0, 1),
    "highBoundary": (0, 1), "getResourceKey": (0, 0), "getReferenceKey": (0, 1), "count": (0, 0),
    "hasValue": (0, 0), "tail": (0, 0),
}  # fmt: skip
"""Function name -> (fewest, most) arguments."""

_BINARY = {
    "implies": 1, "or": 2, "xor": 2, "and": 3, "=": 5, "~": 5, "!=": 5, "!~": 5,
    "<": 6, ">": 6, "<=": 6, ">=": 6, "|": 7, "+": 9, "-": 9, "&": 9, "*": 10, "/": 10, "div": 10, "mod": 10,
}  # fmt: skip
_WORD_OPS = {"implies", "or", "xor", "and", "div", "mod"}


def parse(expr: str) -> Node:
    """The AST of `expr`; raises `FhirPathError` naming the position of the problem."""
    if not isinstance(expr, str) or not expr.strip():
        raise FhirPathError("empty expression", str(expr), 0)
    return _Parser(expr).parse()


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = tokenize(expr)
        self.i = 0

    def parse(self) -> Node:
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(f"unexpected {tok.text!r}", tok)
        return node

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token) -> FhirPathError:
        return FhirPathError(message, self.expr, tok.pos)

    def expect(self, text: str) -> Token:
        tok = self.take()
        if tok.kind != "op" or tok.text != text:
            found = "end of expression" if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected {text!r}, found {found}", tok)
        return tok

    def binary_op(self) -> str | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text in _BINARY:
            return tok.text
        if tok.kind == "ident" and tok.text in _WORD_OPS:
            return tok.text
        return None

    def expression(self, min_prec: int) -> Node:
        left = self.unary()
        while (op := self.binary_op()) is not None and _BINARY[op] > min_prec:
            self.take()
            right = self.expression(_BINARY[op])
            left = Binary(op, left, right)
        return left

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text in "+-":
            self.take()
            return Unary(tok.text, self.unary())
        return self.postfix(self.term())

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text == ".":
                self.take()
                node = self.invocation(node)
            elif tok.kind == "op" and tok.text == "[":
                self.take()
                index = self.expression(0)
                self.expect("]")
                node = Indexer(node, index)
            else:
                return node

    def term(self) -> Node:
        tok = self.take()
        if tok.kind == "string":
            return Literal(tok.text)
        if tok.kind == "number":
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "const":
            return Const(tok.text, tok.pos)
        if tok.kind == "dollar":
            if tok.text != "this":
                raise self.error(f"unsupported variable ${tok.text}; only $this is supported", tok)
            return This()
        if tok.kind == "ident" and tok.text in ("true", "false"):
            return Literal(tok.text == "true")
        if tok.kind == "name" or (tok.kind == "ident" and tok.text not in _WORD_OPS):
            self.i -= 1
            return self.invocation(None)
        if tok.kind == "op" and tok.text == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if tok.kind == "op" and tok.text == "{":
            self.expect("}")
            return Literal(None)
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        raise self.error(f"expected a name, literal or '(', found {found}", tok)

    def invocation(self, target: Node | None) -> Node:
        tok = self.take()
        if tok.kind not in ("ident", "name"):
            found = "end of expression" if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected a name after '.', found {found}", tok)
        nxt = self.peek()
        if not (nxt.kind == "op" and nxt.text == "("):
            return Member(target, tok.text)
        self.take()
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.expression(0))
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.expression(0))
        self.expect(")")
        return self.check_call(Call(target, tok.text, tuple(args), tok.pos), tok)

    def check_call(self, call: Call, tok: Token) -> Call:
        arity = FUNCTIONS.get(call.name)
        if arity is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown function `{call.name}()` (supported: {known})", tok)
        low, high = arity
        if not low <= len(call.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise self.error(f"`{call.name}()` takes {want} argument(s), got {len(call.args)}", tok)
        return call
