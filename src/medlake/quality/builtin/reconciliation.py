"""Reconciliation: every landed object reached bronze (or quarantine); X12 totals balance to the cent."""

from __future__ import annotations

from medlake.quality.builtin.common import n, not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

_UNDONE = ("select source, object_sha256, any_value(original_name) as object_name from meta.manifest group by 1, 2 "
           "having count(*) filter (where event = 'landed') > 0 "
           "and count(*) filter (where event in ('bronzed', 'quarantined', 'duplicate')) = 0")


@builtin("objects_reconciled")
def objects_reconciled(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = objects landed but neither bronzed nor quarantined; total = objects landed."""
    if "meta.manifest" not in relations(ctx.con):
        return [not_applicable("select * from meta.manifest", "nothing has landed yet (no `meta.manifest`)")]
    undone = dict(ctx.con.execute(f"select source, count(*) from ({_UNDONE}) as t group by 1").fetchall())
    landed = dict(ctx.con.execute(
        "select source, count(distinct object_sha256) from meta.manifest where event = 'landed' group by 1").fetchall())
    out = []
    for source in [s.name for s in ctx.tenant.sources]:
        query = f"select * from ({_UNDONE}) as t where source = {quote(source)}"
        total, bad = int(landed.get(source, 0)), int(undone.get(source, 0))
        if not total:
            out.append(not_applicable(query, f"no object of `{source}` has landed yet", source))
            continue
        text = (f"{n(bad)} of {n(total)} landed `{source}` objects are not in bronze nor quarantined" if bad
                else f"all {n(total)} landed `{source}` objects reached bronze or quarantine")
        out.append(Outcome(bad, total, query, source, text))
    return out


@builtin("x12_balance")
def x12_balance(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = X12 balancing rules that do not hold to the cent (BPR02 = Σ CLP04 − Σ PLB,
    CLP03 − CLP04 = Σ CAS, …; `meta.x12_balance`); total = rules checked."""
    if "meta.x12_balance" not in relations(ctx.con):
        return [not_applicable("select * from meta.x12_balance", "no X12 remittance or claim has been mapped")]
    rows = ctx.con.execute(
        "select source, count(*) filter (where not balanced), count(*), coalesce(sum(abs(difference)) "
        "filter (where not balanced), 0) from meta.x12_balance group by 1 order by 1").fetchall()
    out = []
    for source, bad, total, diff in rows:
        query = (f"select object_name, record_index, rule, subject, expected, actual, difference from meta.x12_balance "
                 f"where source = {quote(str(source))} and not balanced")
        text = (f"{n(int(bad))} of {n(int(total))} `{source}` X12 balancing checks are off (by {diff:,.2f} in all)"
                if bad else f"all {n(int(total))} `{source}` X12 balancing checks hold to the cent")
        out.append(Outcome(int(bad), int(total), query, str(source), text))
    return out
