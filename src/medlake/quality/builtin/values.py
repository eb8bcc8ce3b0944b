"""Plausibility of values: the unit and the range of common labs and vitals (`ranges.RANGES`).

`params.rule`: `unit` (failing = results whose unit is not one the LOINC is reported in) or
`range` (failing = results outside the plausible bounds, among those with an accepted or no unit).
One result per source; total = numeric results of the LOINC codes in the table.
"""

from __future__ import annotations

from medlake.quality.builtin.common import columns, n, not_applicable, quote
from medlake.quality.builtin.ranges import RANGES
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

NEEDED = {"id", "source", "code", "code_system", "value_number", "value_unit"}


def ranges_sql() -> str:
    rows = ", ".join(
        f"({quote(code)}, [{', '.join(quote(u) for u in units)}], {lo!r}, {hi!r})" for code, (units, lo, hi) in RANGES.items()
    )
    return f"select * from (values {rows}) as r(loinc, units, lo, hi)"


@builtin("value_plausibility")
def value_plausibility(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    rule = str(spec.params.get("rule", "range"))
    if rule not in ("unit", "range"):
        raise ValueError(f"value_plausibility: `rule` is `{rule}`; rules are: unit, range")
    if not columns(ctx.con, "views.observation") >= NEEDED:
        return [not_applicable("select * from views.observation", "no `views.observation` yet")]
    unit_ok = "(o.value_unit is null or list_contains(r.units, o.value_unit))"
    cond = f"not {unit_ok}" if rule == "unit" else f"{unit_ok} and (o.value_number < r.lo or o.value_number > r.hi)"
    base = (f"from views.observation as o join ({ranges_sql()}) as r on o.code = r.loinc "
            "where o.code_system = 'http://loinc.org' and o.value_number is not null")
    says = "have a unit the code is not reported in" if rule == "unit" else "are outside the plausible range"
    out = []
    for source, f, total in ctx.con.execute(
        f"select o.source, count(*) filter (where {cond}), count(*) {base} group by 1 order by 1"
    ).fetchall():
        query = (f"select o.id, o.code, o.value_number, o.value_unit, r.units, r.lo, r.hi {base} "
                 f"and o.source = {quote(str(source))} and {cond}")
        text = (f"{n(int(f))} of {n(int(total))} `{source}` lab and vital results {says}" if f
                else f"none of the {n(int(total))} `{source}` lab and vital results {says}")
        out.append(Outcome(int(f), int(total), query, str(source), text))
    return out
