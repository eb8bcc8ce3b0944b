"""Plausibility of dates on the views: after birth, before death, not in the future.

The dated columns looked at are those of `DATED` that exist (params `columns` replaces the list,
as `view.column` names). One result per source; failing = dated rows that break the rule.
"""

from __future__ import annotations

from medlake.quality.builtin.common import columns, n, not_applicable, quote
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

DATED: tuple[str, ...] = (
    "encounter.period_start", "encounter.period_end", "observation.effective_at", "condition.onset_at",
    "condition.recorded_date", "procedure.performed_at", "procedure.performed_start", "immunization.occurrence_at",
    "medication_request.authored_on", "diagnostic_report.effective_at",
)
RULES: dict[str, tuple[str, str]] = {  # rule -> (violation over `d` and patient `p`, what the sentence says)
    "not_future": ("t.d > cast({now} as timestamptz) + interval 1 day", "are in the future"),
    "after_birth": ("cast(t.d as date) < p.birth_date", "are before the patient's birth"),
    "before_death": ("t.d > p.deceased_at + interval 1 day", "are after the patient's death"),
}


def dated_rows(ctx: CheckContext, spec: CheckSpec) -> str | None:
    """SELECT source, relation, col, id, patient_id, d over every dated column that exists."""
    parts = []
    for item in spec.params.get("columns", DATED):
        view, col = str(item).split(".", 1)
        if {col, "id", "source", "patient_id"} <= columns(ctx.con, f"views.{view}"):
            parts.append(f"select source, 'views.{view}' as relation, '{col}' as col, id, patient_id, "
                         f"cast({col} as timestamptz) as d from views.{view} where {col} is not null")
    return " union all ".join(parts) if parts else None


@builtin("date_plausibility")
def date_plausibility(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    rule = str(spec.params.get("rule", "not_future"))
    if rule not in RULES:
        raise ValueError(f"date_plausibility: `rule` is `{rule}`; rules are: {', '.join(RULES)}")
    rows = dated_rows(ctx, spec)
    if rows is None or (rule != "not_future" and "id" not in columns(ctx.con, "views.patient")):
        return [not_applicable("", "no view with dates (or no `views.patient`) exists yet")]
    cond, says = RULES[rule]
    cond = cond.format(now=quote(ctx.now.isoformat()))
    join = "" if rule == "not_future" else " left join views.patient as p on p.id = t.patient_id"
    base = f"select t.* from ({rows}) as t{join}"
    out = []
    for source, f, total in ctx.con.execute(
        f"select t.source, count(*) filter (where {cond}), count(*) from ({rows}) as t{join} group by 1 order by 1"
    ).fetchall():
        query = f"{base} where t.source = {quote(str(source))} and {cond}"
        text = (f"{n(int(f))} of {n(int(total))} dated `{source}` records {says}" if f
                else f"none of the {n(int(total))} dated `{source}` records {says}")
        out.append(Outcome(int(f), int(total), query, str(source), text))
    return out
