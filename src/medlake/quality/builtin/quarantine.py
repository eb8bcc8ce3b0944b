"""Records and objects bronze could not read (`meta.quarantine`), per source."""

from __future__ import annotations

from medlake.quality.builtin.common import n, not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin


@builtin("bronze_quarantine")
def bronze_quarantine(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = quarantined records and whole objects of the source; total = those plus bronze rows."""
    rels = relations(ctx.con)
    if "meta.manifest" not in rels:
        return [not_applicable("select * from meta.quarantine", "nothing has landed yet (no `meta.manifest`)")]
    held: dict[str, int] = {}
    if "meta.quarantine" in rels:
        held = {str(s): int(c) for s, c in ctx.con.execute(
            "select source, count(distinct (object_sha256, record_index)) from meta.quarantine "
            "where stage = 'bronze' group by 1").fetchall()}
    rows: dict[str, int] = {}
    for rel in sorted(r for r in rels if r.startswith("bronze.")):
        schema, name = rel.split(".", 1)
        for s, c in ctx.con.execute(f'select _source, count(*) from {schema}."{name}" group by 1').fetchall():
            rows[str(s)] = rows.get(str(s), 0) + int(c)
    out = []
    for source in [s.name for s in ctx.tenant.sources]:
        query = f"select source, object_name, record_index, position from meta.quarantine where source = {quote(source)}"
        bad, total = held.get(source, 0), rows.get(source, 0) + held.get(source, 0)
        if not total:
            out.append(not_applicable(query, f"`{source}` has no bronze records yet", source))
            continue
        text = (f"{n(bad)} of {n(total)} `{source}` records or objects were quarantined at bronze" if bad
                else f"no `{source}` record was quarantined at bronze ({n(total)} records)")
        out.append(Outcome(failing=bad, total=total, query=query, group=source, sentence=text))
    return out
