"""Schema drift of delimited feeds, from `meta.schema_events` (see medlake.bronze.schemas)."""

from __future__ import annotations

from medlake.quality.builtin.common import n, not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

DRIFTED = "(action in ('evolved', 'quarantined') or (from_kind is not null and changes <> '[]'))"


@builtin("schema_drift")
def schema_drift(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = files whose columns changed from the registered layout; total = schema events."""
    if "meta.schema_events" not in relations(ctx.con):
        return [not_applicable("select * from meta.schema_events", "no delimited file has been read yet")]
    counts = {str(s): (int(f), int(t)) for s, f, t in ctx.con.execute(
        f"select source, count(*) filter (where {DRIFTED}), count(*) from meta.schema_events group by 1").fetchall()}
    out = []
    for src in ctx.tenant.sources:
        if src.kind != "delimited":
            continue
        query = (f"select kind, object_name, from_kind, from_version, to_version, changes, action from meta.schema_events "
                 f"where source = {quote(src.name)} and {DRIFTED}")
        failing, total = counts.get(src.name, (0, 0))
        if not total:
            out.append(not_applicable(query, f"no `{src.name}` file has been read yet", src.name))
            continue
        text = (f"{n(failing)} of {n(total)} `{src.name}` files drifted from their registered columns" if failing
                else f"no `{src.name}` file drifted from its registered columns ({n(total)} files)")
        out.append(Outcome(failing=failing, total=total, query=query, group=src.name, sentence=text))
    return out
