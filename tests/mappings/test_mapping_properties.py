"""Properties: for any row, mapping never raises (bad values become problems) and the silver
ids depend only on tenant, system, type and source id."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from mapping_helpers import CTX, rows_table

from medlake.silver.ids import silver_id
from medlake.silver.mappings.delimited import load_spec, map_rows

GOLDEN = Path(__file__).parent / "golden"
SPEC = load_spec(str(GOLDEN / "clinic.yaml"))
COLUMNS = SPEC.kinds["visits"].columns or ()

# Values that look like what feeds send, and text that does not.
value = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "M", "F", "U", "X", "yes", "0", "NA", "int", "text", "office", "er"]),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.datetimes().map(lambda d: d.strftime("%m/%d/%Y %H:%M")),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    st.text(max_size=12),
)
row = st.fixed_dictionaries({c: value for c in COLUMNS})


@settings(max_examples=300, deadline=None)
@given(st.lists(row, min_size=1, max_size=5))
def test_mapping_never_raises_and_ids_are_deterministic(rows: list[dict[str, str | None]]) -> None:
    table = rows_table(rows)
    first = map_rows(SPEC, "visits", table, CTX)
    second = map_rows(SPEC, "visits", table, CTX)
    assert [(r.id, r.resource) for r in first.resources] == [
        (r.id, r.resource) for r in second.resources
    ]
    assert first.problems == second.problems
    bad = {p.record_index for p in first.problems}
    for r in first.resources:
        assert r.record_index not in bad  # all-or-nothing per row
        assert r.id == silver_id(CTX.tenant, CTX.system, r.resource_type, r.source_id)
        assert r.source_id.strip() != ""
    for p in first.problems:
        assert 0 <= p.record_index < len(rows)
        assert p.message
