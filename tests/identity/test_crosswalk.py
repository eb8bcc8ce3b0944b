"""Stable enterprise ids: `crosswalk.assign` by hand-built clusters, and the Delta round trip.

Record ids are short letters so the expected ids can be worked out by hand: a brand-new
person's id is `person_uuid(tenant, <smallest record id of its cluster>)`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from medlake.errors import ConfigError
from medlake.lake.paths import TenantLake
from medlake.silver.identity import crosswalk, overrides
from medlake.silver.identity.crosswalk import Previous, assign, person_uuid

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ids(tenant: str, record: str) -> str:
    return person_uuid(tenant, record)


def prev(**persons: tuple[str, int]) -> dict[str, Previous]:
    """record=(person, days after T0 it was linked)."""
    return {r: Previous(p, T0 + timedelta(days=d)) for r, (p, d) in persons.items()}


def test_from_scratch_ids_are_deterministic_and_named_by_smallest_record() -> None:
    a = assign("t", {"c1": ["b", "a"], "c2": ["c"]}, {})
    assert a.persons == {"a": ids("t", "a"), "b": ids("t", "a"), "c": ids("t", "c")}
    assert [(e.event, e.record_ids) for e in a.events] == [("new", ("a", "b")), ("new", ("c",))]
    # the same clusters under other cluster ids, in another order: the same person ids
    again = assign("t", {"x": ["c"], "y": ["a", "b"]}, {})
    assert again.persons == a.persons
    # another tenant: other ids
    assert assign("u", {"c1": ["a"]}, {}).persons["a"] != a.persons["a"]


def test_unrelated_new_data_does_not_change_ids() -> None:
    before = prev(a=("P1", 0), b=("P1", 0), c=("P2", 0))
    # a new record `d` joins P2; a brand-new person `e` appears; P1 untouched
    a = assign("t", {"k1": ["a", "b"], "k2": ["c", "d"], "k3": ["e"]}, before)
    assert a.persons == {"a": "P1", "b": "P1", "c": "P2", "d": "P2", "e": ids("t", "e")}
    assert [(e.event, e.person_id, e.record_ids) for e in a.events] == [
        ("join", "P2", ("d",)),
        ("new", ids("t", "e"), ("e",)),
    ]


def test_no_change_means_no_events() -> None:
    before = prev(a=("P1", 0), b=("P1", 0), c=("P2", 0))
    a = assign("t", {"k1": ["a", "b"], "k2": ["c"]}, before)
    assert a.events == [] and a.retired == {}
    assert a.persons == {"a": "P1", "b": "P1", "c": "P2"}


def test_merge_keeps_the_older_id_and_records_a_merge_event() -> None:
    # P2 has more records but P1 is older (linked first): P1 survives
    before = prev(a=("P1", 0), b=("P2", 5), c=("P2", 5))
    a = assign("t", {"k": ["a", "b", "c"]}, before)
    assert set(a.persons.values()) == {"P1"}
    assert a.retired == {"P2": "P1"}
    assert [(e.event, e.person_id, e.other_person_id, e.record_ids) for e in a.events] == [
        ("merge", "P1", "P2", ("b", "c"))
    ]


def test_merge_of_equally_old_persons_keeps_the_one_with_more_records() -> None:
    before = prev(a=("P9", 0), b=("P1", 0), c=("P1", 0))
    a = assign("t", {"k": ["a", "b", "c"]}, before)
    assert set(a.persons.values()) == {"P1"} and a.retired == {"P9": "P1"}


def test_split_keeps_the_id_on_the_larger_part() -> None:
    before = prev(a=("P1", 0), b=("P1", 0), c=("P1", 0))
    a = assign("t", {"k1": ["a"], "k2": ["b", "c"]}, before)
    assert a.persons["b"] == a.persons["c"] == "P1"
    # the smaller part is new; its id is named by its smallest record, `a`
    assert a.persons["a"] == ids("t", "a")
    assert [(e.event, e.person_id, e.other_person_id, e.record_ids) for e in a.events] == [
        ("new", ids("t", "a"), None, ("a",)),
        ("split", ids("t", "a"), "P1", ("a",)),
    ]


def test_split_part_never_reuses_a_taken_id() -> None:
    # P was minted from record `a` (a rebuild from scratch); `a` now splits off alone: the
    # deterministic id of `a` is P itself, held by the larger part, so a counter is added
    p = ids("t", "a")
    before = prev(a=(p, 0), b=(p, 0), c=(p, 0))
    a = assign("t", {"k1": ["a"], "k2": ["b", "c"]}, before)
    assert a.persons["b"] == p
    assert a.persons["a"] == person_uuid("t", "a", 1) != p
    # ids retired by earlier merges are never minted again either
    fresh = assign("t", {"k": ["z"]}, {}, taken=[ids("t", "z")])
    assert fresh.persons["z"] == person_uuid("t", "z", 1)


def test_split_tie_goes_to_the_cluster_with_the_smallest_record() -> None:
    before = prev(a=("P1", 0), b=("P1", 0), c=("P1", 0), d=("P1", 0))
    a = assign("t", {"k1": ["c", "d"], "k2": ["a", "b"]}, before)
    assert a.persons["a"] == "P1" and a.persons["c"] == ids("t", "c")


# -- the Delta tables ------------------------------------------------------------------------------
@pytest.fixture
def lake(tmp_path: object) -> TenantLake:
    return TenantLake.open(str(tmp_path), "t")


def _rows(records: dict[str, str], at: datetime) -> pa.Table:
    return pa.table(
        {"record_id": list(records), "person_id": list(records.values()), "source": ["ehr"] * len(records),
         "rule": ["singleton"] * len(records), "probability": pa.array([None] * len(records), pa.float64()),
         "linked_at": pa.array([at] * len(records), crosswalk.TS)},
        schema=crosswalk.CROSSWALK_SCHEMA,
    )


def test_crosswalk_round_trip_writes_only_changes(lake: TenantLake) -> None:
    empty = crosswalk.read_crosswalk(lake)
    assert empty.num_rows == 0
    assert crosswalk.write_crosswalk(lake, _rows({"a": "P1", "b": "P1"}, T0), empty) == 2
    current = crosswalk.read_crosswalk(lake)
    assert crosswalk.previous_of(current) == {"a": Previous("P1", T0), "b": Previous("P1", T0)}
    # the same rows again: nothing written
    assert crosswalk.write_crosswalk(lake, _rows({"a": "P1", "b": "P1"}, T0), current) == 0
    assert crosswalk.write_crosswalk(lake, _rows({"a": "P1", "b": "P2"}, T0), current) == 1
    assert dict(zip(*(crosswalk.read_crosswalk(lake).column(c).to_pylist() for c in ("record_id", "person_id")),
                    strict=True)) == {"a": "P1", "b": "P2"}


def test_retired_ids_come_from_merge_events(lake: TenantLake) -> None:
    crosswalk.write_events(lake, [crosswalk.Event("merge", "P1", "P2", ("b",)),
                                  crosswalk.Event("split", "P3", "P1", ("c",))], T0, "run1")
    assert crosswalk.retired_ids(lake) == {"P2"}


def test_overrides_newest_decision_wins(lake: TenantLake) -> None:
    overrides.add_override(lake, "b", "a", "link", "same person", at=T0)
    overrides.add_override(lake, "c", "d", "unlink", "twins", at=T0)
    overrides.add_override(lake, "a", "b", "unlink", "registration error found", at=T0 + timedelta(days=1))
    assert overrides.decisions(overrides.read_overrides(lake)) == {("a", "b"): "unlink", ("c", "d"): "unlink"}
    must, cannot = overrides.constraints(lake, {"a", "b", "c"})  # `d` is gone: its decision is moot
    assert (must, cannot) == ([], [("a", "b")])


@pytest.mark.parametrize(
    ("a", "b", "action", "reason", "message"),
    [
        ("a", "b", "merge", "x", "override action `merge` is not one of link, unlink"),
        ("a", "a", "link", "x", "cannot link patient `a` with itself; name two different patients"),
        ("a", "b", "unlink", "  ", 'a manual unlink needs a reason (e.g. --reason "confirmed by registration desk")'),
    ],
)
def test_bad_overrides(lake: TenantLake, a: str, b: str, action: str, reason: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        overrides.add_override(lake, a, b, action, reason)
    assert e.value.message == message


def test_review_pair_already_joined_by_other_links_is_not_open() -> None:
    from medlake.silver.identity import review

    pairs = pa.table({
        "record_id_l": ["a", "a"], "record_id_r": ["b", "c"], "probability": [0.8, 0.7],
        "match_weight": [2.0, 1.0], "rule": ["probabilistic", "probabilistic"],
        "decision": ["review", "review"], "evidence": ["[]", "[]"],
    })
    empty = pa.Table.from_pylist([], schema=review.REVIEW_SCHEMA)
    persons = {"a": "P1", "b": "P1", "c": "P2"}
    out = review.updated_review(empty, pairs, {}, persons)
    assert dict(zip(out.column("record_id_r").to_pylist(), out.column("status").to_pylist(), strict=True)) == {
        "b": "same_person", "c": "open"}
    decided = review.updated_review(empty, pairs, {("a", "c"): "unlink"}, persons)
    assert decided.column("status").to_pylist() == ["same_person", "unlinked"]
