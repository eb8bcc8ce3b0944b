"""Point-in-time features and labels on a hand-built history, and the leakage test.

Expected values are worked out by hand from the definitions in `medlake.ml.features`
(comments next to each number). As-of time: 2024-06-30T00:00Z.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest
from ml_fixture import ICD10, LOINC, create_inputs, insert

from medlake.ml.features import MODELS, FeatureError, build_features

AS_OF = "2024-06-30T00:00:00Z"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def history(con: Any) -> None:
    create_inputs(con)
    insert(
        con, "stg__patient",
        ("p1", "1950-06-15", "female", None),
        ("p2a", "1960-01-01", "male", None),
        ("p2b", "1960-01-01", "male", ts("2024-04-03 10:00")),  # dies at e11's discharge
        ("p3", "1970-03-01", "male", None),
    )  # fmt: skip
    insert(con, "stg__person_xref", ("p2a", "P2"), ("p2b", "P2"))  # p1, p3: their own person
    insert(
        con, "stg__encounter",
        ("e2", "p1", "finished", "EMER", ts("2023-11-01 03:00"), ts("2023-11-01 07:00"), None),
        ("e1", "p1", "finished", "IMP", ts("2024-01-10 08:00"), ts("2024-01-15 10:00"), "home"),
        ("e3", "p1", "finished", "IMP", ts("2024-02-05 08:00"), ts("2024-02-08 12:00"), "home"),
        ("e5", "p1", "finished", "IMP", ts("2024-06-01 08:00"), ts("2024-06-05 12:00"), "home"),
        ("e9", "p1", "planned", "AMB", ts("2024-01-12 08:00"), None, None),  # not counted
        ("e12", "p2a", "finished", "IMP", ts("2024-02-01 08:00"), ts("2024-02-02 08:00"), "home"),
        ("e10", "p2b", "finished", "IMP", ts("2024-02-20 08:00"), ts("2024-02-22 08:00"), "aadvice"),
        ("e11", "p2a", "finished", "ACUTE", ts("2024-04-01 08:00"), ts("2024-04-03 10:00"), "exp"),
        ("e20", "p3", "finished", "AMB", ts("2022-05-01 09:00"), ts("2022-05-01 10:00"), None),
        ("e21", "p3", "finished", "EMER", ts("2022-08-15 09:00"), ts("2022-08-15 10:00"), None),
    )  # fmt: skip
    insert(
        con, "stg__condition",
        ("c1", "p1", "E11.9", ICD10, None, None, None, None, ts("2022-03-01 00:00")),
        ("c2", "p1", "E11.22", ICD10, None, None, None, None, ts("2023-06-01 00:00")),
        ("c3", "p1", "I50.9", ICD10, None, None, None, None, ts("2023-06-01 00:00")),
        ("c4", "p1", "N18.3", ICD10, None, None, None, None, ts("2024-01-20 00:00")),
        ("c5", "p1", "C78.0", ICD10, None, None, "refuted", None, ts("2023-01-01 00:00")),
        ("c6", "p3", "123", "urn:local", "E119", ICD10, None, None, ts("2022-01-01 00:00")),
    )  # fmt: skip
    insert(
        con, "stg__observation",
        ("o1", "p1", "final", "4548-4", LOINC, ts("2022-09-01 09:00"), 6.5),
        ("o2", "p1", "final", "4548-4", LOINC, ts("2023-07-01 09:00"), 7.0),
        ("o3", "p1", "final", "4548-4", LOINC, ts("2024-01-01 09:00"), 8.0),
        ("o4", "p1", "final", "4548-4", LOINC, ts("2024-01-16 09:00"), 9.5),
        ("o5", "p1", "final", "33914-3", LOINC, ts("2024-01-12 09:00"), 55.0),
        ("o6", "p1", "final", "39156-5", LOINC, ts("2023-12-01 09:00"), 31.0),
        ("o7", "p1", "final", "8480-6", LOINC, ts("2024-01-14 09:00"), 140.0),
        ("o8", "p1", "final", "8462-4", LOINC, ts("2024-01-14 09:00"), 90.0),
        ("o9", "p1", "entered-in-error", "33914-3", LOINC, ts("2024-01-13 09:00"), 10.0),
        ("o20", "p3", "final", "4548-4", LOINC, ts("2022-05-01 09:00"), 7.0),
        ("o21", "p3", "final", "4548-4", LOINC, ts("2022-11-01 09:00"), 7.2),
    )  # fmt: skip
    insert(
        con, "stg__medication_dispense",
        ("d1", "p1", "completed", "314076", None, None, ts("2023-10-01 12:00"), 90.0),
        ("d2", "p1", "completed", "860975", None, None, ts("2023-12-01 12:00"), 30.0),
        ("d3", "p1", "completed", "860975", None, None, ts("2024-01-01 12:00"), 30.0),
    )  # fmt: skip


@pytest.fixture()
def con() -> Iterator[Any]:
    c = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    history(c)
    yield c
    c.close()


def rows(con: Any, model: str, **kw: Any) -> dict[tuple[str, datetime, str | None], dict[str, Any]]:
    table = build_features(con, model, as_of=AS_OF, **kw)
    return {(r["person_id"], r["predicted_at"], r["index_encounter_id"]): r for r in table.to_pylist()}


def test_readmission_index_stays_labels_and_features(con: Any) -> None:
    got = rows(con, "readmission")
    # e10 left against medical advice, e11 ended in death, e9 is not inpatient
    assert {k[2] for k in got} == {"e1", "e3", "e5", "e12"}
    labels = {k[2]: r["label"] for k, r in got.items()}
    # e1: e3 starts 21 days later; e3: e5 is 114 days later; e5: window ends after as-of;
    # e12: the AMA stay e10 (another patient of the same person) starts 18 days later
    assert labels == {"e1": 1, "e3": 0, "e5": None, "e12": 1}
    r = got[("p1", ts("2024-01-15 10:00"), "e1")]
    assert r["age_years"] == 73  # born 1950-06-15
    assert r["sex_female"] == 1
    assert r["inpatient_admissions_12m"] == 1  # the index stay itself started before T
    assert r["ed_visits_12m"] == 1
    assert r["encounters_12m"] == 2  # planned e9 not counted
    assert r["charlson_index"] == 3  # complicated diabetes 2 (replaces E11.9) + heart failure 1
    assert (r["has_diabetes"], r["has_heart_failure"], r["has_renal"]) == (1, 1, 0)
    assert r["medication_count_12m"] == 2
    # covered days in [2023-07-19, 2024-01-15): Oct 1–Dec 29 (90) ∪ Dec 1–30 (+1) ∪ Jan 1–14 (14)
    assert r["pdc_180d"] == pytest.approx(105 / 180)
    assert r["hba1c_latest"] == 8.0  # 9.5 on Jan 16 is after T
    assert r["hba1c_count_24m"] == 3  # 2022-09-01, 2023-07-01, 2024-01-01
    assert r["egfr_latest"] == 55.0  # the entered-in-error 10.0 is ignored
    assert (r["bmi_latest"], r["bp_systolic_latest"], r["bp_diastolic_latest"]) == (31.0, 140.0, 90.0)
    assert r["length_of_stay_days"] == 5
    r3 = got[("p1", ts("2024-02-08 12:00"), "e3")]
    assert r3["charlson_index"] == 5  # + renal 2 (N18.3 recorded Jan 20)
    assert r3["inpatient_admissions_12m"] == 2
    assert r3["hba1c_latest"] == 9.5
    p2 = got[("P2", ts("2024-02-02 08:00"), "e12")]
    assert (p2["sex_female"], p2["age_years"], p2["pdc_180d"]) == (0, 64, None)


def test_hba1c_slope(con: Any) -> None:
    got = rows(con, "readmission")
    r = got[("p1", ts("2024-01-15 10:00"), "e1")]
    # least-squares slope of (6.5, 7.0, 8.0) over their times, in points per year
    xs = [ts(t).timestamp() / 86400 / 365.25 for t in ("2022-09-01 09:00", "2023-07-01 09:00", "2024-01-01 09:00")]
    ys = [6.5, 7.0, 8.0]
    mx, my = sum(xs) / 3, sum(ys) / 3
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert r["hba1c_slope_per_year"] == pytest.approx(slope)


def test_diabetes_population_and_labels(con: Any) -> None:
    got = rows(con, "diabetes", months=30)
    labels = {(k[0], k[1].date().isoformat()): r["label"] for k, r in got.items()}
    # p1: diabetes since 2022-03, first HbA1c 2022-09-01 → first month start 2022-10-01
    assert min(d for p, d in labels if p == "p1") == "2022-10-01"
    assert labels[("p1", "2022-10-01")] == 1  # 6.5 → 7.0 within the year: +0.5
    assert labels[("p1", "2023-06-01")] == 1  # last 6.5; 7.0, 8.0 and 9.5 follow
    assert labels[("p1", "2023-08-01")] is None  # window ends 2024-08-01, after as-of
    # p3 (diabetes via the source ICD-10 code): 7.0 then 7.2: +0.2, not above 9
    assert labels[("p3", "2022-06-01")] == 0
    assert labels[("p3", "2022-12-01")] is None  # no HbA1c in the following year
    assert not any(p == "P2" for p, _ in labels)


def test_ed_labels(con: Any) -> None:
    got = rows(con, "ed", months=30)
    labels = {(k[0], k[1].date().isoformat()): r["label"] for k, r in got.items()}
    assert ("p1", "2023-11-01") not in labels  # no encounter before T yet (first: Nov 1 03:00)
    assert labels[("p1", "2023-12-01")] == 0  # no ED visit Dec 2023 – May 2024
    assert labels[("p3", "2022-06-01")] == 1  # ED visit 2022-08-15
    assert labels[("p3", "2022-09-01")] == 0  # nothing Sep 2022 – Feb 2023
    assert labels[("p1", "2024-01-01")] is None  # window ends 2024-07-01, after as-of
    assert ("P2", "2024-05-01") not in labels  # died 2024-04-03
    assert min(d for p, d in labels if p == "p3") == "2022-06-01"  # first encounter 2022-05-01
    r = got[("p1", ts("2024-01-01 00:00"), None)]
    assert (r["ed_visits_12m"], r["inpatient_admissions_12m"]) == (1, 0)


def feature_values(con: Any, model: str, before: datetime) -> dict[Any, dict[str, Any]]:
    """Every row at or before `before`, its features only (labels may see the future)."""
    table = build_features(con, model, as_of=AS_OF, months=30)
    out = {}
    for r in table.to_pylist():
        if r["predicted_at"] <= before:
            key = (r["person_id"], r["predicted_at"], r["index_encounter_id"])
            out[key] = {f: r[f] for f in MODELS[model].features}
    return out


@pytest.mark.parametrize("model", list(MODELS))
def test_no_leakage_from_data_after_prediction_time(con: Any, model: str) -> None:
    cutoff = ts("2024-01-15 10:00")
    before = feature_values(con, model, cutoff)
    assert before  # the test compares something
    # add and change data after the cutoff: new stays, visits, labs, fills, a condition
    # back-dated to before the cutoff but recorded after it, a later death
    insert(
        con, "stg__encounter",
        ("x1", "p1", "finished", "IMP", ts("2024-01-15 10:01"), ts("2024-01-18 10:00"), "home"),
        ("x2", "p3", "finished", "EMER", ts("2024-03-01 10:00"), ts("2024-03-01 12:00"), None),
    )  # fmt: skip
    insert(
        con, "stg__observation",
        ("x3", "p1", "final", "4548-4", LOINC, ts("2024-01-15 10:00:01"), 12.0),
        ("x4", "p3", "final", "4548-4", LOINC, ts("2024-02-01 09:00"), 11.0),
        ("x5", "p1", "final", "39156-5", LOINC, ts("2024-03-01 09:00"), 40.0),
    )  # fmt: skip
    insert(con, "stg__condition", ("x6", "p1", "C78.0", ICD10, None, None, None, ts("2023-01-01 00:00"), ts("2024-02-01 00:00")))
    insert(con, "stg__medication_dispense", ("x7", "p1", "completed", "111", None, None, ts("2024-01-16 00:00"), 90.0))
    con.execute("update gold_staging.stg__patient set deceased_at = ? where patient_id = 'p3'", [ts("2024-05-01 00:00")])
    con.execute("update gold_staging.stg__observation set value_number = 99 where observation_id = 'o4'")  # after T
    after = feature_values(con, model, cutoff)
    assert after == before
    # and the same additions before the cutoff would change features (the test has teeth)
    insert(con, "stg__observation", ("x8", "p1", "final", "39156-5", LOINC, ts("2023-12-31 09:00"), 45.0))
    assert feature_values(con, model, cutoff) != before


def test_unknown_model_and_missing_inputs(con: Any) -> None:
    with pytest.raises(FeatureError) as e:
        build_features(con, "sepsis")
    assert e.value.message == "unknown model `sepsis`; use one of readmission, diabetes, ed"
    empty = duckdb.connect()
    with pytest.raises(FeatureError) as e:
        build_features(empty, "ed")
    assert e.value.message.startswith("feature inputs missing: gold_staging.stg__patient, ")
    empty.close()
