"""The persistent crosswalk: silver Patient id → enterprise person id, stable across runs.

Delta table `silver/identity/crosswalk`, one row per silver Patient (record):
`record_id, person_id, source, rule, probability, linked_at`. `linked_at` is when the record
was first given its current person. The events table `silver/identity/events` says what
changed and why, with person ids, record ids and counts only (never names or dates).

How a run's clusters (from the matcher) become person ids — `assign`:

1. Every person id of the previous crosswalk goes to at most one new cluster: the one that
   holds most of its records (ties: the cluster with the smallest record id). So a *split*
   keeps the id on the larger part.
2. A cluster that got one or more previous ids keeps the oldest (first `linked_at`, then most
   records, then the smaller id); the other ids are retired into it: a *merge* event each.
3. A cluster that got none is a *new* person with a deterministic id, UUIDv5 of tenant,
   `Person` and the cluster's smallest record id, so a rebuild from scratch gives the same ids.
   Should that id already be taken (a split part whose smallest record named the old
   person), a counter is added to the name until it is free.
4. Records new to a kept person are a *join*; records that came from another person's split are
   a *split* event on the part that did not keep the id.

Nothing changes for a record whose person is unchanged: a run with no new data writes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver.ids import silver_id

TS = pa.timestamp("us", tz="UTC")

CROSSWALK_SCHEMA = pa.schema(
    [
        pa.field("record_id", pa.string(), nullable=False),  # silver Patient id
        pa.field("person_id", pa.string(), nullable=False),  # enterprise person id
        pa.field("source", pa.string()),
        pa.field("rule", pa.string()),  # how the record joined: a matcher rule, a40, manual, singleton
        pa.field("probability", pa.float64()),
        pa.field("linked_at", TS),
    ]
)

EVENTS_SCHEMA = pa.schema(
    [
        pa.field("event", pa.string(), nullable=False),  # new | join | merge | split | override
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("other_person_id", pa.string()),  # merge: the retired id; split: the id split from
        pa.field("record_ids", pa.list_(pa.string())),
        pa.field("record_count", pa.int64()),
        pa.field("at", TS),
        pa.field("batch_id", pa.string()),
    ]
)


def person_uuid(tenant: str, smallest_record_id: str, attempt: int = 0) -> str:
    """The enterprise id of a brand-new person (UUIDv5 of tenant, `Person`, the smallest record id)."""
    key = smallest_record_id if attempt == 0 else f"{smallest_record_id}#{attempt}"
    return silver_id(tenant, "urn:medlake:mpi", "Person", key)


@dataclass(frozen=True)
class Previous:
    """A record's row in the previous crosswalk (what `assign` needs of it)."""

    person_id: str
    linked_at: datetime


@dataclass(frozen=True)
class Event:
    event: str
    person_id: str
    other_person_id: str | None
    record_ids: tuple[str, ...]


@dataclass
class Assignment:
    """The outcome of `assign`: person per record, and what happened."""

    persons: dict[str, str] = field(default_factory=dict)  # record_id → person_id
    events: list[Event] = field(default_factory=list)
    retired: dict[str, str] = field(default_factory=dict)  # retired person id → the id it merged into


def _awards(clusters: Mapping[str, list[str]], previous: Mapping[str, Previous]) -> dict[str, list[str]]:
    """Step 1: cluster id → the previous person ids it receives."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)  # old person → cluster → records
    for cid, records in clusters.items():
        for r in records:
            if r in previous:
                counts[previous[r].person_id][cid] += 1
    awards: dict[str, list[str]] = defaultdict(list)
    for pid, per_cluster in counts.items():
        winner = min(per_cluster, key=lambda c: (-per_cluster[c], clusters[c][0]))
        awards[winner].append(pid)
    return awards


def _age(pid: str, records: list[str], previous: Mapping[str, Previous]) -> tuple[datetime, int, str]:
    mine = [previous[r] for r in records if r in previous and previous[r].person_id == pid]
    return (min(p.linked_at for p in mine), -len(mine), pid)


def assign(
    tenant: str, clusters: Mapping[str, Iterable[str]], previous: Mapping[str, Previous], taken: Iterable[str] = ()
) -> Assignment:
    """Person ids for `clusters` (cluster id → record ids), reusing the `previous` crosswalk.

    `taken` are person ids that must not be minted again (retired ids from earlier runs).
    """
    groups = {cid: sorted(recs) for cid, recs in clusters.items()}
    awards = _awards(groups, previous)
    used = {p.person_id for p in previous.values()} | set(taken)
    out = Assignment()
    for cid in sorted(groups, key=lambda c: groups[c][0]):
        records = groups[cid]
        won = sorted(awards.get(cid, []), key=lambda p: _age(p, records, previous))
        if won:
            person = won[0]
            for retired in won[1:]:
                out.retired[retired] = person
                moved = tuple(r for r in records if r in previous and previous[r].person_id == retired)
                out.events.append(Event("merge", person, retired, moved))
        else:
            person = _mint(tenant, records[0], used)
            out.events.append(Event("new", person, None, tuple(records)))
        used.add(person)
        _moves(out, person, records, previous, set(won), bool(won))
        for r in records:
            out.persons[r] = person
    return out


def _mint(tenant: str, smallest: str, used: set[str]) -> str:
    attempt = 0
    while (pid := person_uuid(tenant, smallest, attempt)) in used:
        attempt += 1
    return pid


def _moves(out: Assignment, person: str, records: list[str], previous: Mapping[str, Previous],
           won: set[str], kept: bool) -> None:
    """Join events (new records of a kept person) and split events (records whose old person
    stayed with another cluster)."""
    joined = tuple(r for r in records if r not in previous)
    if kept and joined:
        out.events.append(Event("join", person, None, joined))
    split_from: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r in previous and previous[r].person_id not in won:
            split_from[previous[r].person_id].append(r)
    for old, recs in sorted(split_from.items()):
        out.events.append(Event("split", person, old, tuple(recs)))


# -- the Delta tables ----------------------------------------------------------------------------
def read_crosswalk(lake: TenantLake) -> pa.Table:
    """The crosswalk (empty with the right schema when it does not exist yet)."""
    t = delta.read(lake.identity("crosswalk"), options=lake.delta_options())
    if t is None:
        return CROSSWALK_SCHEMA.empty_table()
    return t.select(CROSSWALK_SCHEMA.names).cast(CROSSWALK_SCHEMA)


def previous_of(crosswalk: pa.Table) -> dict[str, Previous]:
    cols = (crosswalk.column(c).to_pylist() for c in ("record_id", "person_id", "linked_at"))
    return {r: Previous(p, at) for r, p, at in zip(*cols, strict=True)}


def retired_ids(lake: TenantLake) -> set[str]:
    """Person ids an earlier merge retired (never minted again)."""
    t = delta.read(lake.identity("events"), columns=["event", "other_person_id"], options=lake.delta_options())
    if t is None:
        return set()
    return {o for e, o in zip(t.column("event").to_pylist(), t.column("other_person_id").to_pylist(), strict=True)
            if e == "merge" and o}


def write_crosswalk(lake: TenantLake, rows: pa.Table, current: pa.Table) -> int:
    """Upsert the rows whose person, rule or probability differ from `current`; returns how many."""
    before = {
        r: (p, ru, pr)
        for r, p, ru, pr in zip(*(current.column(c).to_pylist() for c in ("record_id", "person_id", "rule", "probability")), strict=True)
    }
    keep = [
        before.get(r) != (p, ru, pr)
        for r, p, ru, pr in zip(*(rows.column(c).to_pylist() for c in ("record_id", "person_id", "rule", "probability")), strict=True)
    ]
    changed = rows.filter(pa.array(keep, pa.bool_())).cast(CROSSWALK_SCHEMA)
    if changed.num_rows:
        delta.merge(lake.identity("crosswalk"), changed, on=["record_id"], options=lake.delta_options())
    return int(changed.num_rows)


def write_events(lake: TenantLake, events: list[Event], at: datetime, batch_id: str) -> None:
    if not events:
        return
    t = pa.table(
        {
            "event": [e.event for e in events],
            "person_id": [e.person_id for e in events],
            "other_person_id": [e.other_person_id for e in events],
            "record_ids": [list(e.record_ids) for e in events],
            "record_count": [len(e.record_ids) for e in events],
            "at": [at] * len(events),
            "batch_id": [batch_id] * len(events),
        },
        schema=EVENTS_SCHEMA,
    )
    delta.append(lake.identity("events"), t, lake.delta_options())
