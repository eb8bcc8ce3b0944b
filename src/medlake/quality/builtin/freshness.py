"""Freshness per source: the newest landed object against `SourceConfig.freshness_hours`."""

from __future__ import annotations

from medlake.quality.builtin.common import not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin


@builtin("freshness")
def freshness(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """One result per source: fail when its newest object landed more than `freshness_hours` before `now`."""
    has_manifest = "meta.manifest" in relations(ctx.con)
    newest = dict(ctx.con.execute(
        "select source, max(received_at) from meta.manifest where event = 'landed' group by 1").fetchall()) if has_manifest else {}
    out = []
    for src in ctx.tenant.sources:
        query = f"select max(received_at) from meta.manifest where event = 'landed' and source = {quote(src.name)}"
        if src.freshness_hours is None:
            out.append(not_applicable(query, f"`{src.name}` declares no `freshness_hours`", src.name))
            continue
        last = newest.get(src.name)
        limit = f"{src.freshness_hours:g} h"
        if last is None:
            out.append(Outcome(1, 1, query, src.name, f"no `{src.name}` object has landed (expected every {limit})"))
            continue
        age = (ctx.now - last).total_seconds() / 3600
        late = age > src.freshness_hours
        text = f"the newest `{src.name}` object landed {age:.1f} h ago ({'over' if late else 'within'} the {limit} expected)"
        out.append(Outcome(int(late), 1, query, src.name, text))
    return out
