"""`lowBoundary()` / `highBoundary()` -> DuckDB SQL, the compiled twin of `fhirpath_boundary`.

A number's boundary depends on how Python would write it: a JSON integer has 0 decimal places,
a JSON decimal has as many as its shortest repr (`str(float)`, which DuckDB's DOUBLE -> VARCHAR
cast reproduces, `1e-05` included). The sum `value ± 5·10^-(places+1)` is exact in
DECIMAL(38,18) and rounded to DOUBLE once, as `float(Decimal)` does; values beyond that range
(|x| >= 1e19 or more than 17 places) fall back to DOUBLE arithmetic.

A string is a date, dateTime or time by the type `ofType()` gave it (tracked statically, see
`temporal_type`), otherwise by its shape (`HH:` is a time, a `T` makes a dateTime). The
precision argument is accepted and, as in the Python evaluator, not used.
"""

from __future__ import annotations

from medlake.silver.views.engine.compile_fhirpath import (
    EMPTY,
    FhirPathCompiler,
    Scope,
    not_compiled,
    quote,
)
from medlake.silver.views.engine.fhirpath_parse import Binary, Call, Indexer, Member, Node, This

TEMPORAL = ("date", "dateTime", "instant", "time")
_KEEPS_ITEMS = ("first", "last", "tail", "where")
_DATE = r"^([0-9]+)(?:-([0-9]+))?(?:-([0-9]+))?$"
_TIME = r"^([0-9][0-9])(?::([0-9][0-9])(?::([0-9][0-9])(?:\.([0-9]+))?)?)?$"
_ZONE = r"(Z|[+-][0-9][0-9]:[0-9][0-9])$"


def temporal_type(node: Node | None, focus_type: str | None) -> str | None:
    """The FHIR temporal type `ofType()` gave the strings `node` yields (None: plain strings)."""
    if node is None or isinstance(node, This):
        return focus_type
    if isinstance(node, Call):
        if node.name == "ofType":
            arg = node.args[0]
            name = arg.name if isinstance(arg, Member) else ""
            return name if name in TEMPORAL else None
        if node.name in _KEEPS_ITEMS:
            return temporal_type(node.target, focus_type)
        return None
    if isinstance(node, Indexer):
        return temporal_type(node.target, focus_type)
    if isinstance(node, Binary) and node.op == "|":
        left, right = temporal_type(node.left, focus_type), temporal_type(node.right, focus_type)
        if left != right:
            raise not_compiled("`|` of strings of different temporal types under a boundary function")
        return left
    return None


def compile_boundary(c: FhirPathCompiler, node: Call, focus: str, scope: Scope) -> str:
    """SQL `JSON[]`: the low or high boundary of the one value of the call's input (empty if none)."""
    high = node.name == "highBoundary"
    base = focus if node.target is None else c.compile(node.target, focus, scope)
    kind = temporal_type(node.target, scope.focus_type)
    v = c.var()
    number = "to_json(" + _decimal(f"CAST({v} AS VARCHAR)", f"json_type({v})", high) + ")"
    text = "to_json(" + _string(f"({v}->>'$')", kind, high) + ")"
    value = (f"CASE WHEN json_type({v}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN {number} "
             f"WHEN json_type({v}) = 'VARCHAR' THEN {text} END")  # fmt: skip
    return c.each(f"[{c.single(base)}]", f"CASE WHEN {v} IS NULL THEN {EMPTY} ELSE list_filter([{value}], lambda e: e IS NOT NULL) END", v)  # fmt: skip


def _decimal(text: str, json_kind: str, high: bool) -> str:
    """DOUBLE boundary of a JSON number given as its JSON text and json_type."""
    sign = "+" if high else "-"
    shortest = f"CASE WHEN {json_kind} = 'DOUBLE' THEN CAST(CAST({text} AS DOUBLE) AS VARCHAR) ELSE {text} END"
    mantissa = f"split_part(lower({shortest}), 'e', 1)"
    exponent = f"coalesce(TRY_CAST(nullif(split_part(lower({shortest}), 'e', 2), '') AS INTEGER), 0)"
    decimals = f"CASE WHEN strpos({mantissa}, '.') > 0 THEN length({mantissa}) - strpos({mantissa}, '.') ELSE 0 END"
    places = f"greatest({decimals} - {exponent}, 0)"
    half = f"('0.' || repeat('0', {places}) || '5')"
    exact = (f"CAST(CAST(CAST({shortest} AS DECIMAL(38, 18)) {sign} CAST({half} AS DECIMAL(38, 18)) "
             f"AS VARCHAR) AS DOUBLE)")  # fmt: skip
    approximate = f"CAST({shortest} AS DOUBLE) {sign} 5 * pow(10, -({places} + 1))"
    return (f"CASE WHEN {places} <= 17 AND abs(CAST({shortest} AS DOUBLE)) < 1e19 "
            f"THEN {exact} ELSE {approximate} END")  # fmt: skip


def _string(s: str, kind: str | None, high: bool) -> str:
    """VARCHAR boundary of a date, dateTime or time string (NULL when it is not one)."""
    if kind == "time":
        return _time(s, high)
    if kind == "date":
        return _date(s, high)
    if kind in ("dateTime", "instant"):
        return _datetime(s, high)
    guess_time = f"length({s}) > 2 AND substr({s}, 3, 1) = ':'"
    return (f"CASE WHEN {guess_time} THEN {_time(s, high)} WHEN contains({s}, 'T') THEN {_datetime(s, high)} "
            f"ELSE {_date(s, high)} END")  # fmt: skip


def _date(s: str, high: bool) -> str:
    def part(i: int) -> str:
        return f"regexp_extract({s}, {quote(_DATE)}, {i})"

    year, month, day = (f"CAST({part(i)} AS BIGINT)" for i in (1, 2, 3))
    month_or = f"CASE WHEN {part(2)} = '' THEN {12 if high else 1} ELSE {month} END"
    if high:
        last = f"dayofmonth(last_day(make_date(CAST({year} AS INTEGER), CAST({month_or} AS INTEGER), 1)))"
        day_or = f"CASE WHEN {part(3)} <> '' THEN {day} ELSE {last} END"
    else:
        day_or = f"CASE WHEN {part(3)} <> '' THEN {day} ELSE 1 END"
    text = f"printf('%04d-%02d-%02d', {year}, {month_or}, {day_or})"
    return f"CASE WHEN regexp_full_match({s}, {quote(_DATE[1:-1])}) THEN {text} END"


def _time(s: str, high: bool) -> str:
    def part(i: int) -> str:
        return f"regexp_extract({s}, {quote(_TIME)}, {i})"

    fill = "'59'" if high else "'00'"
    minutes = f"CASE WHEN {part(2)} = '' THEN {fill} ELSE {part(2)} END"
    seconds = f"CASE WHEN {part(3)} = '' THEN {fill} ELSE {part(3)} END"
    millis = f"CASE WHEN {part(4)} = '' THEN {quote('999' if high else '000')} ELSE left({part(4)} || '000', 3) END"
    text = f"{part(1)} || ':' || {minutes} || ':' || {seconds} || '.' || {millis}"
    return f"CASE WHEN regexp_full_match({s}, {quote(_TIME[1:-1])}) THEN {text} END"


def _datetime(s: str, high: bool) -> str:
    date_part = f"split_part({s}, 'T', 1)"
    time_part = f"CASE WHEN contains({s}, 'T') THEN substr({s}, strpos({s}, 'T') + 1) ELSE '' END"
    zone_found = f"regexp_extract({time_part}, {quote(_ZONE)}, 1)"
    zone = f"CASE WHEN {zone_found} = '' THEN {quote('-12:00' if high else '+14:00')} ELSE {zone_found} END"
    clock_text = f"left({time_part}, length({time_part}) - length({zone_found}))"
    whole_day = quote("23:59:59.999" if high else "00:00:00.000")
    clock = f"CASE WHEN {clock_text} = '' THEN {whole_day} ELSE {_time(clock_text, high)} END"
    return f"{_date(date_part, high)} || 'T' || {clock} || {zone}"
