"""The one-line sentence of a check result: counts and names only, never a data value.

    `birth_date` is missing in 3.2% of lab patients (96 / 3,000)
"""

from __future__ import annotations

from medlake.quality.model import CheckSpec


def pct_text(failing: int, total: int) -> str:
    """`3.2%`, `<0.1%` for a tiny non-zero share, `0%` and `100%` without decimals."""
    if total <= 0 or failing <= 0:
        return "0%"
    pct = 100.0 * failing / total
    if pct < 0.1:
        return "<0.1%"
    if failing == total:
        return "100%"
    text = f"{pct:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _who(spec: CheckSpec, group: str | None) -> str:
    return f"{group} {spec.subject}" if group else spec.subject


def problem(spec: CheckSpec) -> str:
    """What a violating row has, e.g. "`birth_date` is missing" (`problem:` in YAML overrides)."""
    custom = spec.params.get("problem")
    if custom:
        return str(custom)
    col, p = spec.column, spec.params
    if spec.kind == "not_null":
        return f"`{col}` is missing"
    if spec.kind == "unique":
        return f"`{col}` is not unique"
    if spec.kind == "accepted_values":
        return f"`{col}` is not an accepted value"
    if spec.kind == "between":
        lo, hi = p.get("min"), p.get("max")
        if lo is not None and hi is not None:
            return f"`{col}` is outside {lo} … {hi}"
        return f"`{col}` is below {lo}" if lo is not None else f"`{col}` is above {hi}"
    if spec.kind == "regex":
        return f"`{col}` does not match its pattern"
    if spec.kind == "relationship":
        return f"`{col}` points to no `{p['to']}`"
    return f"check `{spec.id}` finds a problem"


def sentence(spec: CheckSpec, failing: int, total: int, group: str | None) -> str:
    """The result sentence of a row check (or a row count)."""
    if spec.kind == "row_count":
        lo, hi = spec.params.get("min"), spec.params.get("max")
        want = (f"between {lo:,} and {hi:,}" if lo is not None and hi is not None
                else f"at least {lo:,}" if lo is not None else f"at most {hi:,}")
        return f"`{spec.table}` has {total:,} {_who(spec, group)} (expected {want})"
    return f"{problem(spec)} in {pct_text(failing, total)} of {_who(spec, group)} ({failing:,} / {total:,})"


def missing_relation(relation: str) -> str:
    return f"`{relation}` does not exist in this lake, so the check does not apply"


def nothing_to_check(spec: CheckSpec, group: str | None) -> str:
    return f"no {_who(spec, group)} in `{spec.table}` to check"


def error_sentence(error: BaseException) -> str:
    """The check could not run: the error class, and for schema errors (a missing column, a
    syntax error: names, not data values) their first line."""
    name = type(error).__name__
    if name in ("BinderException", "CatalogException", "ParserException"):
        first = str(error).splitlines()[0] if str(error) else ""
        return f"the check could not run: {name}: {first}"
    return f"the check could not run: {name}"
