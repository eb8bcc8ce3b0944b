"""Duplicate patients: one source patient number used by two people, merges the source sent,
and pairs the patient index left for review."""

from __future__ import annotations

from medlake.quality.builtin.common import columns, n, not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

# versions of one silver Patient (one source patient number) that disagree on the birth date,
# or on both family and given name: two people share the number
_SHARED = (
    "select source, id from (select source, id, "
    "json_extract_string(resource, '$.birthDate') as birth, "
    "json_extract_string(resource, '$.name[0].family') as family, "
    "json_extract_string(resource, '$.name[0].given[0]') as given from silver.patient_history) as v "
    "group by 1, 2 having count(distinct birth) > 1 or (count(distinct family) > 1 and count(distinct given) > 1)"
)
_MERGES = ("A34", "A35", "A36", "A39", "A40", "A41", "A42")


@builtin("shared_patient_number")
def shared_patient_number(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = source patients whose versions name different people; total = source patients."""
    if "silver.patient_history" not in relations(ctx.con):
        return [not_applicable("select * from silver.patient_history", "no Patient has been mapped yet")]
    bad = dict(ctx.con.execute(f"select source, count(*) from ({_SHARED}) as t group by 1").fetchall())
    totals = ctx.con.execute("select source, count(distinct id) from silver.patient_history group by 1 order by 1").fetchall()
    out = []
    for source, total in totals:
        f = int(bad.get(source, 0))
        query = (f"select id, version, source_id, _object_name, _record_index from silver.patient_history where id in "
                 f"(select id from ({_SHARED}) as t where source = {quote(str(source))}) order by id, version")
        text = (f"{n(f)} of {n(int(total))} `{source}` patient numbers are used by different people (birth date or name differ)"
                if f else f"no `{source}` patient number is used by two people ({n(int(total))} patients)")
        out.append(Outcome(f, int(total), query, str(source), text))
    return out


@builtin("merged_registrations")
def merged_registrations(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = HL7 merge messages (A34–A42: the source registered a person twice); total = messages."""
    events = ", ".join(quote(e) for e in _MERGES)
    out = []
    for rel in sorted(r for r in relations(ctx.con) if r.startswith("bronze.")):
        if not {"trigger_event", "_source"} <= columns(ctx.con, rel):
            continue
        schema, name = rel.split(".", 1)
        for source, f, total in ctx.con.execute(
            f'select _source, count(*) filter (where trigger_event in ({events})), count(*) from {schema}."{name}" '
            "group by 1 order by 1"
        ).fetchall():
            query = (f'select _object_name, control_id, trigger_event from {schema}."{name}" '
                     f"where _source = {quote(str(source))} and trigger_event in ({events})")
            text = (f"`{source}` sent {n(int(f))} patient merge messages: a person was registered twice"
                    if f else f"`{source}` sent no patient merge ({n(int(total))} messages)")
            out.append(Outcome(int(f), int(total), query, str(source), text))
    if not out:
        return [not_applicable("", "no HL7 v2 feed has landed")]
    return out


@builtin("identity_review_open")
def identity_review_open(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    """failing = candidate duplicate pairs still `open` on the patient index's review list; total = pairs."""
    if "identity.review" not in relations(ctx.con):
        return [not_applicable("select * from identity.review", "the patient index has not run yet")]
    row = ctx.con.execute("select count(*) filter (where status = 'open'), count(*) from identity.review").fetchone()
    f, total = (int(row[0]), int(row[1])) if row else (0, 0)
    query = "select record_id_l, record_id_r, probability, rule from identity.review where status = 'open'"
    if not total:
        return [Outcome(0, 0, query, None, "the review list of the patient index is empty", "pass")]
    text = (f"{n(f)} of {n(total)} possible duplicate patient pairs wait for review" if f
            else f"no possible duplicate patient pair waits for review ({n(total)} decided)")
    return [Outcome(f, total, query, None, text)]
