"""The problem a parser found in one record, and the error levels that decide its fate.

A `Problem` names *where* (in the format's own notation: `line 1,204 col 7`, `entry 12
(Observation)`) and *what* (a readable sentence). The raw offending text rides along in
`text` so the caller can quarantine it; it is never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from medlake.errors import ErrorLevel, ParseError

logger = logging.getLogger("medlake.formats")

QUOTE_LIMIT = 60
"""How many characters of offending text a message quotes."""


@dataclass(frozen=True)
class Problem:
    """One bad record: where it is, what is wrong with it, and its raw text."""

    message: str
    position: str
    line: int | None = None
    record_index: int | None = None
    text: str | None = None

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` as a double-quoted snippet for a message, cut to `limit` characters."""
    snippet = text if len(text) <= limit else text[:limit] + "…"
    return '"' + snippet.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace(
        "\n", "\\n"
    ) + '"'


def line_position(line: int, col: int | None = None) -> str:
    """A position as the delimited formats write it: `line 1,204` or `line 1,204 col 7`."""
    return f"line {line:,}" if col is None else f"line {line:,} col {col:,}"


def report(problem: Problem, level: ErrorLevel, problems: list[Problem], name: str) -> None:
    """Apply an error level to `problem`: drop, log its position, collect it, or raise.

    `warn` logs the file name and position only, never the text (no PHI in logs).
    """
    if level == "ignore":
        return
    if level == "warn":
        logger.warning("%s: %s: bad record skipped", name, problem.position)
        return
    if level == "collect":
        problems.append(problem)
        return
    raise ParseError(
        f"{name}: {problem.position}: {problem.message}",
        file=name,
        position=problem.position,
        line=problem.line,
        record_index=problem.record_index,
    )
