"""Claims and eligibility logic flags (after Tuva's `data_quality.logical`), on the views.

`params.flag` names one flag of `FLAGS`; one result per source; failing = rows flagged.
"""

from __future__ import annotations

from medlake.quality.builtin.common import columns, n, not_applicable, quote
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

# flag -> (view, columns it needs, violation, what the sentence calls the rows, what is wrong)
FLAGS: dict[str, tuple[str, tuple[str, ...], str, str, str]] = {
    "paid_over_allowed": ("explanation_of_benefit", ("paid", "allowed"), "paid > allowed",
                          "remittances", "pay more than allowed"),
    "paid_over_charge": ("explanation_of_benefit", ("paid", "charge"), "paid > charge",
                         "remittances", "pay more than charged"),
    "negative_amount": ("explanation_of_benefit", ("paid", "allowed", "charge"), "(charge < 0 or allowed < 0 or paid < 0)",
                        "remittances", "have a negative amount"),
    "claim_end_before_start": ("claim", ("billable_start", "billable_end"), "billable_end < billable_start",
                               "claims", "end before they start"),
    "negative_charge": ("claim", ("total_charge",), "total_charge < 0", "claims", "have a negative charge"),
    "claim_without_coverage": ("claim", ("coverage_id",),
                               "(coverage_id is null or coverage_id not in (select id from views.coverage))",
                               "claims", "have no matching coverage"),
    "discharge_before_admission": ("encounter", ("period_start", "period_end"), "period_end < period_start",
                                   "encounters", "end (discharge) before they start (admission)"),
    "coverage_end_before_start": ("coverage", ("period_start", "period_end"), "period_end < period_start",
                                  "coverages", "end before they start"),
}


@builtin("claims_logic")
def claims_logic(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    flag = str(spec.params.get("flag", ""))
    if flag not in FLAGS:
        raise ValueError(f"claims_logic: `flag` is `{flag}`; flags are: {', '.join(FLAGS)}")
    view, need, cond, noun, says = FLAGS[flag]
    have = columns(ctx.con, f"views.{view}")
    if not {"id", "source", *need} <= have or (flag == "claim_without_coverage" and not columns(ctx.con, "views.coverage")):
        return [not_applicable(f"select * from views.{view}", f"`views.{view}` does not exist yet")]
    out = []
    for source, f, total in ctx.con.execute(
        f"select source, count(*) filter (where {cond}), count(*) from views.{view} group by 1 order by 1"
    ).fetchall():
        query = f"select * from views.{view} where source = {quote(str(source))} and {cond}"
        text = f"{n(int(f))} of {n(int(total))} `{source}` {noun} {says}"
        out.append(Outcome(int(f), int(total), query, str(source), text))
    return out
