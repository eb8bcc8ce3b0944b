"""The identity stage: silver Patients → matched persons → crosswalk, events, review, golden records.

    stats = run_identity(project, tenant, lake, batch_id)

1. extract every current silver Patient as a person record, and the A40 merges (`records`);
2. match them (`matcher.match`) with the A40 merges and manual `link` overrides as must-links
   and manual `unlink` overrides as cannot-links;
3. give the clusters stable enterprise ids (`crosswalk.assign`) and write the crosswalk rows
   that changed plus the events;
4. update the review list; 5. write the golden `Person` of every person through the silver
   store (unchanged Persons are no-ops there).

Idempotent: a second run over the same silver writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from medlake.config import ProjectConfig, TenantConfig
from medlake.lake.paths import TenantLake
from medlake.silver.identity import crosswalk, overrides, records, review, survivorship

log = logging.getLogger("medlake.identity")


@dataclass
class IdentityStats:
    records: int = 0
    persons: int = 0
    a40_merges: int = 0
    overrides: int = 0
    crosswalk_changed: int = 0
    review_open: int = 0
    persons_written: int = 0
    events: dict[str, int] = field(default_factory=dict)
    match: dict[str, int | float] = field(default_factory=dict)
    seconds: float = 0.0


def _rules(
    pairs: pa.Table, persons: dict[str, str], a40: list[tuple[str, str]], manual: list[tuple[str, str]]
) -> tuple[dict[str, str | None], dict[str, float | None]]:
    """Per record, how it is linked to its person: the strongest same-person link pair's rule
    and probability; `a40` / `manual` when such a must-link holds it; `singleton` alone."""
    rule: dict[str, str | None] = {}
    prob: dict[str, float | None] = {}
    cols = ("record_id_l", "record_id_r", "probability", "rule", "decision")
    for a, b, p, ru, d in zip(*(pairs.column(c).to_pylist() for c in cols), strict=True):
        if d != "link" or persons.get(a) != persons.get(b):
            continue
        for r in (a, b):
            if prob.get(r) is None or (p or 0.0) > (prob[r] or 0.0):
                rule[r], prob[r] = ru, p
    for name, links in (("a40", a40), ("manual", manual)):
        for a, b in links:
            if persons.get(a) == persons.get(b):
                rule[a] = rule[b] = name
                prob[a] = prob[b] = 1.0
    for r in persons:
        if r not in rule:
            rule[r], prob[r] = "singleton", None
    return rule, prob


def _clusters(result_clusters: pa.Table) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r, c in zip(result_clusters.column("record_id").to_pylist(), result_clusters.column("cluster_id").to_pylist(), strict=True):
        out.setdefault(c, []).append(r)
    return out


def _crosswalk_rows(recs: pa.Table, assignment: crosswalk.Assignment, previous: dict[str, crosswalk.Previous],
                    rule: dict[str, str | None], prob: dict[str, float | None], now: datetime) -> pa.Table:
    ids = recs.column("record_id").to_pylist()
    persons = [assignment.persons[r] for r in ids]
    linked = [previous[r].linked_at if r in previous and previous[r].person_id == p else now
              for r, p in zip(ids, persons, strict=True)]
    return pa.table(
        {"record_id": ids, "person_id": persons, "source": recs.column("source").cast(pa.string()),
         "rule": [rule[r] for r in ids], "probability": pa.array([prob[r] for r in ids], pa.float64()),
         "linked_at": pa.array(linked, crosswalk.TS)},
        schema=crosswalk.CROSSWALK_SCHEMA,
    )


def run_identity(
    project: ProjectConfig,
    tenant: TenantConfig,
    lake: TenantLake,
    batch_id: str,
    *,
    source_ranking: Sequence[str] | None = None,
    settings: Any = None,
) -> IdentityStats:
    """Run the master patient index over the tenant's current silver Patients."""
    from medlake.lake.catalog import connect
    from medlake.silver import store
    from medlake.silver.identity import matcher

    t0 = time.perf_counter()
    stats = IdentityStats()
    con = connect(lake, gold=False)
    try:
        recs = records.person_records(con)
        a40 = records.merge_links(con)
    finally:
        con.close()
    known = set(recs.column("record_id").to_pylist())
    must, cannot = overrides.constraints(lake, known)
    result = matcher.match(records.match_input(recs), settings or matcher.MatchSettings(),
                           must_link=[*a40, *must], cannot_link=cannot)
    now = datetime.now(UTC)
    current = crosswalk.read_crosswalk(lake)
    previous = crosswalk.previous_of(current)
    assignment = crosswalk.assign(tenant.name, _clusters(result.clusters), previous, crosswalk.retired_ids(lake))
    rule, prob = _rules(result.pairs, assignment.persons, a40, must)
    stats.crosswalk_changed = crosswalk.write_crosswalk(
        lake, _crosswalk_rows(recs, assignment, previous, rule, prob, now), current)
    crosswalk.write_events(lake, assignment.events, now, batch_id)
    old_review = review.read_review(lake)
    new_review = review.updated_review(old_review, result.pairs, overrides.decisions(overrides.read_overrides(lake)),
                                       assignment.persons)
    review.write_review(lake, old_review, new_review)
    review.write_pairs(lake, result.pairs)
    ranking = list(source_ranking) if source_ranking else survivorship.default_ranking(tenant)
    golden = survivorship.golden_records(tenant.name, recs, assignment.persons, rule, assignment.retired, ranking, batch_id)
    written = store.write(lake, tenant.name, golden, reason="merge")
    stats.records, stats.persons = recs.num_rows, len(set(assignment.persons.values()))
    stats.a40_merges, stats.overrides = len(a40), len(must) + len(cannot)
    stats.review_open = sum(1 for s in new_review.column("status").to_pylist() if s == "open")
    stats.persons_written = written.inserted + written.updated
    for e in assignment.events:
        stats.events[e.event] = stats.events.get(e.event, 0) + 1
    stats.match = dict(result.stats)
    stats.seconds = time.perf_counter() - t0
    log.info("identity: %d records → %d persons, %d crosswalk rows changed, %d Person versions, events %s",
             stats.records, stats.persons, stats.crosswalk_changed, stats.persons_written, stats.events)
    return stats
