"""Builtins over the views and the patient index: dates, values, claims flags, duplicate patients."""

from __future__ import annotations

from typing import Any

import pytest
from builtin_fixture import brief, context, run, session


@pytest.fixture
def con() -> Any:
    c = session()
    c.execute("create table views.patient as select * from (values ('p1', date '1980-05-01', null::timestamptz), "
              "('p2', date '2000-01-01', timestamptz '2023-06-01 00:00:00+00')) as t(id, birth_date, deceased_at)")
    c.execute("""create table views.encounter as select * from (values
        ('e1', 'p1', 'ehr', timestamptz '2023-01-01 10:00:00+00', timestamptz '2023-01-03 10:00:00+00'),
        ('e2', 'p1', 'ehr', timestamptz '1979-01-01 10:00:00+00', timestamptz '1979-01-01 12:00:00+00'),
        ('e3', 'p2', 'ehr', timestamptz '2023-06-01 15:00:00+00', timestamptz '2023-06-01 09:00:00+00'),
        ('e4', 'p2', 'adt', timestamptz '2023-08-01 10:00:00+00', null))
        as t(id, patient_id, source, period_start, period_end)""")
    c.execute("""create table views.observation as select * from (values
        ('o1', 'p1', 'ehr', '29463-7', 'http://loinc.org', 80.0, 'kg', timestamptz '2123-02-01 10:00:00+00'),
        ('o2', 'p1', 'ehr', '29463-7', 'http://loinc.org', 800.0, 'kg', timestamptz '2023-02-01 10:00:00+00'),
        ('o3', 'p1', 'ehr', '2345-7', 'http://loinc.org', 5.5, 'mmol/L', timestamptz '2023-02-01 10:00:00+00'),
        ('o4', 'p1', 'lab', '2345-7', 'http://loinc.org', 95.0, 'mg/dL', timestamptz '2023-02-01 10:00:00+00'),
        ('o5', 'p1', 'lab', 'LOCAL1', 'urn:local', 1e9, 'x', timestamptz '2023-02-01 10:00:00+00'))
        as t(id, patient_id, source, code, code_system, value_number, value_unit, effective_at)""")
    return c


def test_dates_not_in_the_future_after_birth_before_death(con: Any) -> None:
    ctx = context(con)
    assert brief(run(ctx, "date_plausibility", rule="not_future")) == [
        ("adt", 0, 1, "none of the 1 dated `adt` records are in the future"),
        ("ehr", 1, 9, "1 of 9 dated `ehr` records are in the future"),
        ("lab", 0, 2, "none of the 2 dated `lab` records are in the future"),
    ]
    after_birth = run(ctx, "date_plausibility", rule="after_birth")
    assert brief(after_birth)[1] == ("ehr", 2, 9, "2 of 9 dated `ehr` records are before the patient's birth")
    assert [r[3] for r in con.execute(after_birth[1].query).fetchall()] == ["e2", "e2"]
    assert brief(run(ctx, "date_plausibility", rule="before_death"))[0] == (
        "adt", 1, 1, "1 of 1 dated `adt` records are after the patient's death")


def test_value_units_and_ranges(con: Any) -> None:
    ctx = context(con)
    assert brief(run(ctx, "value_plausibility", rule="unit")) == [
        ("ehr", 1, 3, "1 of 3 `ehr` lab and vital results have a unit the code is not reported in"),
        ("lab", 0, 1, "none of the 1 `lab` lab and vital results have a unit the code is not reported in"),
    ]
    rng = run(ctx, "value_plausibility", rule="range")
    assert brief(rng)[0] == ("ehr", 1, 3, "1 of 3 `ehr` lab and vital results are outside the plausible range")
    assert [r[0] for r in con.execute(rng[0].query).fetchall()] == ["o2"]


def test_claims_logic_flags() -> None:
    c = session()
    c.execute("create table views.coverage as select * from (values ('cov1', 'claims', date '2023-01-01', date '2022-01-01')) "
              "as t(id, source, period_start, period_end)")
    c.execute("create table views.claim as select * from (values ('c1', 'claims', 'cov1', date '2023-01-01', date '2023-01-02', 10.0), "
              "('c2', 'claims', null, date '2023-01-05', date '2023-01-01', -5.0), ('c3', 'claims', 'gone', null, null, 1.0)) "
              "as t(id, source, coverage_id, billable_start, billable_end, total_charge)")
    c.execute("create table views.explanation_of_benefit as select * from (values ('r1', 'claims', 100.0, 80.0, 90.0), "
              "('r2', 'claims', 100.0, 80.0, 70.0), ('r3', 'claims', 100.0, null, 0.0)) as t(id, source, charge, allowed, paid)")
    ctx = context(c)
    got = {flag: brief(run(ctx, "claims_logic", flag=flag)) for flag in (
        "paid_over_allowed", "claim_without_coverage", "claim_end_before_start", "negative_charge",
        "coverage_end_before_start", "discharge_before_admission")}
    assert got == {
        "paid_over_allowed": [("claims", 1, 3, "1 of 3 `claims` remittances pay more than allowed")],
        "claim_without_coverage": [("claims", 2, 3, "2 of 3 `claims` claims have no matching coverage")],
        "claim_end_before_start": [("claims", 1, 3, "1 of 3 `claims` claims end before they start")],
        "negative_charge": [("claims", 1, 3, "1 of 3 `claims` claims have a negative charge")],
        "coverage_end_before_start": [("claims", 1, 1, "1 of 1 `claims` coverages end before they start")],
        "discharge_before_admission": [(None, 0, 0, "`views.encounter` does not exist yet")],
    }
    with pytest.raises(ValueError, match="claims_logic: `flag` is `nope`; flags are: paid_over_allowed"):
        run(ctx, "claims_logic", flag="nope")


def test_duplicate_patients_shared_numbers_merges_and_review() -> None:
    c = session()
    c.execute("""create table silver.patient_history as select * from (values
        ('clinic', 'x1', 1, '{"birthDate":"1976-10-18","name":[{"family":"Ibanez","given":["Veronica"]}]}'),
        ('clinic', 'x1', 2, '{"birthDate":"1960-10-06","name":[{"family":"Jimenez","given":["Lupe"]}]}'),
        ('clinic', 'x2', 1, '{"birthDate":"1950-01-01","name":[{"family":"Shaw","given":["Kate"]}]}'),
        ('clinic', 'x2', 2, '{"birthDate":"1950-01-01","name":[{"family":"Smith","given":["Kate"]}]}'),
        ('adt', 'x3', 1, '{"birthDate":"2017-03-19","name":[{"family":"Shaw","given":["Katie"]}]}'))
        as t(source, id, version, resource)""")
    c.execute("create table bronze.adt__messages as select * from (values ('adt', 'A01', 'M1', 'adt_1.hl7'), "
              "('adt', 'A40', 'M2', 'adt_1.hl7')) as t(_source, trigger_event, control_id, _object_name)")
    c.execute("create table identity.review as select * from (values ('a', 'b', 0.9, 'p', 'open'), "
              "('c', 'd', 0.9, 'p', 'linked')) as t(record_id_l, record_id_r, probability, rule, status)")
    ctx = context(c)
    assert brief(run(ctx, "shared_patient_number")) == [
        ("adt", 0, 1, "no `adt` patient number is used by two people (1 patients)"),
        ("clinic", 1, 2, "1 of 2 `clinic` patient numbers are used by different people (birth date or name differ)"),
    ]
    assert brief(run(ctx, "merged_registrations")) == [
        ("adt", 1, 2, "`adt` sent 1 patient merge messages: a person was registered twice")]
    assert brief(run(ctx, "identity_review_open")) == [
        (None, 1, 2, "1 of 2 possible duplicate patient pairs wait for review")]
