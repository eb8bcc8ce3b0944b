"""What `medlake identity show` prints, and the checks behind `link` / `unlink`.

Reads the identity tables only (crosswalk, pairs, the golden `Person`); never the matcher.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from medlake.errors import ConfigError, LakeError
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver.identity import crosswalk, overrides


def _crosswalk(lake: TenantLake) -> pa.Table:
    if not delta.exists(lake.identity("crosswalk"), lake.delta_options()):
        raise LakeError(
            f"tenant `{lake.tenant}` has no identity crosswalk yet; run `medlake build` (it runs the identity stage)",
            tenant=lake.tenant,
        )
    return crosswalk.read_crosswalk(lake)


def resolve_person(xwalk: pa.Table, id_: str) -> str:
    """The person id that `id_` names: a person id itself, or the person of a silver Patient id."""
    records = xwalk.column("record_id").to_pylist()
    persons = xwalk.column("person_id").to_pylist()
    if id_ in persons:
        return id_
    for r, p in zip(records, persons, strict=True):
        if r == id_:
            return str(p)
    raise ConfigError(
        f"`{id_}` is neither an enterprise person id nor a silver Patient id of this tenant; "
        "list them with `medlake sql \"select * from identity.crosswalk\"`",
        id=id_,
    )


def _golden(lake: TenantLake, person_id: str) -> dict[str, Any] | None:
    t = delta.read_where_in(lake.silver("Person"), "id", [person_id], columns=["resource"], options=lake.delta_options())
    if t is None or t.num_rows == 0:
        return None
    res: dict[str, Any] = json.loads(t.column("resource")[0].as_py())
    return res


def _golden_line(res: dict[str, Any] | None) -> str:
    if res is None:
        return "golden record: (none yet)"
    name = (res.get("name") or [{}])[0]
    parts = [" ".join([*name.get("given", []), name.get("family", "")]).strip() or "?",
             res.get("gender", "?"), f"born {res.get('birthDate', '?')}"]
    return "golden record: " + " · ".join(parts)


def person_report(lake: TenantLake, id_: str) -> list[str]:
    """Lines describing one person: golden record, source records, scored links with evidence."""
    xwalk = _crosswalk(lake)
    person = resolve_person(xwalk, id_)
    mine = [r for r in xwalk.to_pylist() if r["person_id"] == person]
    mine.sort(key=lambda r: r["record_id"])
    ids = {r["record_id"] for r in mine}
    sources = sorted({r["source"] or "?" for r in mine})
    lines = [f"person {person}: {len(mine)} record(s) from {', '.join(sources)}", _golden_line(_golden(lake, person)),
             "records:"]
    for r in mine:
        p = "-" if r["probability"] is None else f"{r['probability']:.4f}"
        lines.append(f"  Patient/{r['record_id']} source={r['source']} rule={r['rule']} p={p} "
                     f"linked_at={r['linked_at']:%Y-%m-%dT%H:%M:%SZ}")
    pairs = delta.read(lake.identity("pairs"), options=lake.delta_options())
    rows = [] if pairs is None else [p for p in pairs.to_pylist() if p["record_id_l"] in ids or p["record_id_r"] in ids]
    lines.append(f"links: {len(rows)} scored pair(s)")
    for p in sorted(rows, key=lambda p: (-(p["probability"] or 0.0), p["record_id_l"], p["record_id_r"])):
        w = "-" if p["match_weight"] is None else f"{p['match_weight']:.2f}"
        prob = "-" if p["probability"] is None else f"{p['probability']:.4f}"
        lines.append(f"  {p['record_id_l']} ~ {p['record_id_r']} {p['decision']} p={prob} weight={w} rule={p['rule']}")
        if p["evidence"]:
            lines.append(f"    evidence: {p['evidence']}")
    return lines


def record_override(lake: TenantLake, a: str, b: str, action: str, reason: str) -> None:
    """Check that `a` and `b` are silver Patients the index knows, then record the decision
    (`identity.overrides`) and an `override` event (ids only)."""
    known = set(_crosswalk(lake).column("record_id").to_pylist())
    for x in (a, b):
        if x not in known:
            raise ConfigError(
                f"`{x}` is not a silver Patient id the identity index knows; use Patient ids from "
                "`medlake identity show` or `identity.crosswalk.record_id`",
                id=x,
            )
    overrides.add_override(lake, a, b, action, reason)
    person = resolve_person(_crosswalk(lake), a)
    event = crosswalk.Event("override", person, None, tuple(sorted((a, b))))
    crosswalk.write_events(lake, [event], datetime.now(UTC), f"manual:{action}")
