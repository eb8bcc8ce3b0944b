"""Silent bronze truncation: a file shorter than its source declared, or than the feed usually is.

An object is flagged when

- bronze quarantined a record of it because the file ends inside it (a delimited file whose
  last line is cut off, no final newline: the reader's reason says "may be truncated"; an
  X12 or HL7 file without its trailers: "cut short");
- its control counts disagree: X12 `SE01` / `GE01` / `IEA01`, HL7 `BTS-1` / `FTS-1` (kept by
  bronze in `parse_problems` of the set or message, or as a quarantine reason for the file);
- it is much smaller than the earlier objects of the same feed: size < `ratio` (default 0.1)
  × the median size of at least `min_history` (default 3) earlier objects of the same source
  and file-name pattern (digits and UUIDs blanked: `fills_2021.csv` ~ `fills_2022.csv`), for
  sources of the kinds in `size_kinds` (default `[delimited]`: rotated HL7/X12 feeds end
  with a partial file by design; their truncation shows in the control counts).

One result per source: failing = flagged objects, total = objects landed.
"""

from __future__ import annotations

from medlake.quality.builtin.common import columns, n, not_applicable, quote, relations
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtin

CUT = "last record cut off"
COUNTS = "control counts do not match"
SMALL = "much smaller than usual"

_CUT_TEXT = ("%may be truncated%", "%cut short%")
_COUNT_TEXT = ("%SE01 says%", "%GE01 %", "%IEA01 %", "%(BTS-1)%", "%(FTS-1)%", "%BTS-1%", "%FTS-1%")
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _any_like(col: str, patterns: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"{col} like {quote(p)}" for p in patterns) + ")"


def _evidence(col: str) -> str:
    return f"case when {_any_like(col, _CUT_TEXT)} then '{CUT}' else '{COUNTS}' end"


def evidence_sql(ctx: CheckContext, spec: CheckSpec) -> str | None:
    """One SELECT of (source, object_sha256, object_name, evidence) over what the lake holds."""
    rels = relations(ctx.con)
    parts: list[str] = []
    both = _CUT_TEXT + _COUNT_TEXT
    if "meta.quarantine" in rels:
        parts.append(
            f"select source, object_sha256, object_name, {_evidence('reason')} as evidence from meta.quarantine "
            f"where stage = 'bronze' and {_any_like('reason', both)}"
        )
    for rel in sorted(r for r in rels if r.startswith("bronze.")):
        cols = columns(ctx.con, rel)
        if {"parse_problems", "_source", "_object_sha256", "_object_name"} <= cols:
            schema, name = rel.split(".", 1)
            trailer = " or has_trailer = false" if "has_trailer" in cols else ""
            evidence = f"case when {_any_like('parse_problems', _CUT_TEXT)}{trailer} then '{CUT}' else '{COUNTS}' end"
            parts.append(
                f"select _source as source, _object_sha256 as object_sha256, _object_name as object_name, "
                f'{evidence} as evidence from {schema}."{name}" '
                f"where {_any_like('parse_problems', both)}{trailer}"
            )
    if "meta.manifest" in rels:
        kinds = {str(k) for k in spec.params.get("size_kinds", ["delimited"])}
        sized = [s.name for s in ctx.tenant.sources if s.kind in kinds]
        if sized:
            ratio = float(spec.params.get("ratio", 0.1))
            history = int(spec.params.get("min_history", 3))
            parts.append(
                "select source, object_sha256, original_name as object_name, "
                f"'{SMALL}' as evidence from (select *, median(size) over w as usual, count(*) over w as earlier from "
                f"(select source, object_sha256, original_name, size, received_at, regexp_replace(regexp_replace("
                f"original_name, '{_UUID}', '#', 'g'), '[0-9]+', '#', 'g') as stem from meta.manifest "
                f"where event = 'landed' and source in ({', '.join(quote(s) for s in sized)})) as landed "
                "window w as (partition by source, stem order by received_at, original_name "
                "rows between unbounded preceding and 1 preceding)) as sized "
                f"where earlier >= {history} and size < {ratio} * usual"
            )
    if not parts:
        return None
    return " union all ".join(parts)


@builtin("bronze_truncation")
def bronze_truncation(ctx: CheckContext, spec: CheckSpec) -> list[Outcome]:
    if "meta.manifest" not in relations(ctx.con):
        return [not_applicable("select * from meta.manifest", "nothing has landed yet (no `meta.manifest`)")]
    sql = evidence_sql(ctx, spec)
    assert sql is not None  # the manifest part exists
    flagged: dict[str, dict[str, set[str]]] = {}  # source -> object name -> evidence
    for source, _sha, name, evidence in ctx.con.execute(sql).fetchall():
        flagged.setdefault(str(source), {}).setdefault(str(name), set()).add(str(evidence))
    landed = dict(ctx.con.execute(
        "select source, count(distinct object_sha256) from meta.manifest where event = 'landed' group by 1"
    ).fetchall())
    out = []
    for source in [s.name for s in ctx.tenant.sources]:
        query = f"select * from ({sql}) as t where source = {quote(source)}"
        total = int(landed.get(source, 0))
        if not total:
            out.append(not_applicable(query, f"no object of `{source}` has landed yet", source))
            continue
        objects = flagged.get(source, {})
        if not objects:
            text = f"none of the {n(total)} `{source}` objects looks truncated"
        else:
            shown = "; ".join(f"{name} ({', '.join(sorted(ev))})" for name, ev in sorted(objects.items())[:3])
            more = f"; and {n(len(objects) - 3)} more" if len(objects) > 3 else ""
            text = f"{n(len(objects))} of {n(total)} `{source}` objects look truncated: {shown}{more}"
        out.append(Outcome(failing=len(objects), total=max(total, len(objects)), query=query, group=source, sentence=text))
    return out
