"""YAML cohorts (medlake.gold.cohorts): validation messages, and the compiled SQL on a
hand-built population of gold marts (only the columns the compiled SQL reads)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from medlake.gold.cohorts import (
    CohortError,
    compile_cohort,
    load_cohorts_dir,
    materialize_sql,
    parse_cohort,
)

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

GOOD = """
name: uncontrolled_diabetes_adults
description: adults 18-75 with diabetes whose latest HbA1c is above 9
include:
  - condition: {icd10: [E10, E11.9]}
  - observation: {loinc: [4548-4], compare: ">", value: 9, latest: true}
  - age: {min: 18, max: 75}
exclude:
  - condition: {icd10: [Z51.5]}
"""


def parse(text: str) -> object:
    return parse_cohort(yaml.safe_load(text), "c.yaml")


def test_good_file_parses() -> None:
    c = parse_cohort(yaml.safe_load(GOOD), "c.yaml")
    assert c.name == "uncontrolled_diabetes_adults"
    assert [type(r).__name__ for r in c.include] == ["CodeRule", "CodeRule", "AgeRule"]
    assert c.include[0].codes == ("E10", "E119")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: Diabetes2\ninclude: [{sex: female}]",
         "c.yaml: name: must be lower-case letters, digits and `_`, starting with a letter; got 'Diabetes2'"),
        ("name: diabetes\ninclude: [{condition: {icd10: E11}}]",
         "c.yaml: name: `diabetes` is a built-in cohort (gold.cohort_members); choose another name"),
        ("name: x\n", "c.yaml: include: must be a non-empty list of rules"),
        ("name: x\ninclude: [{sex: female}]",
         "c.yaml: include: needs at least one condition, observation, medication or any rule"),
        ("name: x\ninclude: [{labs: {loinc: 1}}]",
         "c.yaml: include[0]: unknown rule `labs` (one of: condition, observation, medication, age, sex, any)"),
        ("name: x\ninclude: [{observation: {loinc: [4548-4], compare: '=>', value: 9}}]",
         "c.yaml: include[0].observation.compare: must be one of <, <=, =, !=, >=, >; got '=>'"),
        ("name: x\ninclude: [{observation: {loinc: [4548-4], compare: '>'}}]",
         "c.yaml: include[0].observation: `compare` and `value` go together: give both or neither"),
        ("name: x\ninclude: [{observation: {loinc: [4548-4], compare: '>', value: high}}]",
         "c.yaml: include[0].observation.value: must be a number; got 'high'"),
        ("name: x\ninclude: [{condition: {icd10: []}}]",
         "c.yaml: include[0].condition.icd10: must be a code or a non-empty list of codes"),
        ("name: x\ninclude: [{condition: {icd10: [\"E11'; drop\"]}}]",
         "c.yaml: include[0].condition.icd10: \"E11'; drop\" is not a code (letters, digits, `.` and `-`)"),
        ("name: x\ninclude: [{condition: {icd: [E11]}}]",
         "c.yaml: include[0].condition: unknown key `icd` (allowed: icd10)"),
        ("name: x\ninclude: [{medication: {rxnorm: [1]}}, {age: {min: 80, max: 18}}]",
         "c.yaml: include[1].age: `min` (80) is greater than `max` (18)"),
        ("name: x\ninclude: [{medication: {rxnorm: [1]}}]\nexclude: [{sex: [woman]}]",
         "c.yaml: exclude[0].sex: 'woman' is not one of: female, male, other, unknown"),
        ("name: x\ninclude: [{any: [{age: {min: 1}}]}]",
         "c.yaml: include[0].any[0]: unknown rule `age` (one of: condition, observation, medication)"),
        ("name: x\ninclude: [{medication: {rxnorm: [1]}}]\ncolour: red",
         "c.yaml: (top level): unknown key `colour` (allowed: name, description, include, exclude)"),
    ],
)  # fmt: skip
def test_validation_messages(text: str, message: str) -> None:
    with pytest.raises(CohortError) as e:
        parse(text)
    assert str(e.value) == message


def test_load_dir_rejects_duplicates_and_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    with pytest.raises(CohortError) as e:
        load_cohorts_dir(tmp_path)
    assert str(e.value) == "b.yml: name: `uncontrolled_diabetes_adults` is already defined in a.yaml"
    (tmp_path / "b.yml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(CohortError, match=r"^b\.yml: line 2: not valid YAML"):
        load_cohorts_dir(tmp_path)
    with pytest.raises(CohortError) as e:
        load_cohorts_dir(tmp_path / "missing")
    assert str(e.value) == f"cohorts_dir `{tmp_path / 'missing'}` is not a folder"


def population() -> duckdb.DuckDBPyConnection:
    """Five persons, worked out by hand against GOOD:
    a: E11.9 (2020-01-05), HbA1c 8 then 9.5 (latest, 2024-03-01), age 60      -> in, onset 2024-03-01
    b: E11 via the source coding only, HbA1c 10 then 7 (latest), age 50       -> out (latest <= 9)
    c: E10 (2021-02-02), HbA1c 9.2 (2019-05-05), age 40, hospice Z51.5       -> out (excluded)
    d: E11 (2022-07-07) refuted, HbA1c 11, age 45                             -> out (refuted)
    e: E11 (2018-01-01), HbA1c 9.0 exactly, then 12 entered-in-error, age 30  -> out (9 is not > 9)
    f: E11.65 (2023-01-01), HbA1c 9.1 (2022-12-01), age 76                    -> out (age)
    g: source-coded E11.9 (2016-04-04), HbA1c 9.8 (2015-01-01), age 18          -> in, onset 2016-04-04
    """
    con = duckdb.connect()
    con.execute("""create table fct_conditions as select * from (values
        ('a', 'E11.9', ?, null, null, date '2020-01-05', null, 'confirmed', 'ehr'),
        ('b', 'xyz', 'urn:local', 'E11', ?, date '2020-01-01', null, null, 'clinic'),
        ('c', 'E10', ?, null, null, date '2021-02-02', null, null, 'ehr'),
        ('c', 'Z51.5', ?, null, null, date '2024-01-01', null, null, 'ehr'),
        ('d', 'E11', ?, null, null, date '2022-07-07', null, 'refuted', 'ehr'),
        ('e', 'E11', ?, null, null, date '2018-01-01', null, null, 'ehr'),
        ('f', 'E11.65', ?, null, null, date '2023-01-01', null, null, 'ehr'),
        ('g', '44054006', 'http://snomed.info/sct', 'E11.9', ?, null, date '2016-04-04', null, 'clinic')
    ) t(person_id, code, code_system, source_code, source_code_system, onset_at, recorded_at,
        verification_status, source)""", [ICD10] * 8)
    con.execute("""create table fct_observations as select * from (values
        ('a', 'o1', ?, '4548-4', 8.0, timestamptz '2023-01-01 00:00:00+00', 'final', 'lab'),
        ('a', 'o2', ?, '4548-4', 9.5, timestamptz '2024-03-01 00:00:00+00', 'final', 'lab'),
        ('b', 'o3', ?, '4548-4', 10.0, timestamptz '2023-01-01 00:00:00+00', 'final', 'lab'),
        ('b', 'o4', ?, '4548-4', 7.0, timestamptz '2024-01-01 00:00:00+00', 'final', 'lab'),
        ('c', 'o5', ?, '4548-4', 9.2, timestamptz '2019-05-05 00:00:00+00', 'final', 'lab'),
        ('d', 'o6', ?, '4548-4', 11.0, timestamptz '2023-05-05 00:00:00+00', 'final', 'lab'),
        ('e', 'o7', ?, '4548-4', 9.0, timestamptz '2023-05-05 00:00:00+00', 'final', 'lab'),
        ('e', 'o8', ?, '4548-4', 12.0, timestamptz '2024-05-05 00:00:00+00', 'entered-in-error', 'lab'),
        ('f', 'o9', ?, '4548-4', 9.1, timestamptz '2022-12-01 00:00:00+00', 'final', 'lab'),
        ('g', 'o10', ?, '4548-4', 9.8, timestamptz '2015-01-01 00:00:00+00', 'final', 'lab')
    ) t(person_id, observation_id, code_system, code, value_number, effective_at, status, source)""",
        [LOINC] * 10)  # fmt: skip
    con.execute("""create table fct_medications as select * from (values
        ('a', ?, '860975', null, null, timestamptz '2024-01-01 00:00:00+00', 'pharmacy')
    ) t(person_id, code_system, code, source_code, source_code_system, event_at, source)""", [RXNORM])
    con.execute("""create table patient_360 as select * from (values
        ('a', 60, 'female'), ('b', 50, 'male'), ('c', 40, 'female'), ('d', 45, 'male'),
        ('e', 30, 'female'), ('f', 76, 'male'), ('g', 18, null)
    ) t(person_id, age_years, gender)""")
    con.execute("""create table cohort_attribution as select * from (values
        ('a', 'Acme Health', 'pr1'), ('g', null, null)
    ) t(person_id, attributed_payer, attributed_provider)""")
    return con


def test_compiled_cohort_on_hand_built_population() -> None:
    con = population()
    rows = con.execute(compile_cohort(parse_cohort(yaml.safe_load(GOOD), "c.yaml")) + " order by 1").fetchall()
    assert rows == [
        ("a", "uncontrolled_diabetes_adults", __import__("datetime").date(2024, 3, 1), "4548-4", "lab", None,
         "Acme Health", "pr1"),
        ("g", "uncontrolled_diabetes_adults", __import__("datetime").date(2016, 4, 4), "E11.9", "clinic", None,
         None, None),
    ]  # fmt: skip


def test_any_sex_and_medication_rules() -> None:
    con = population()
    cohort = parse(
        "name: women_on_metformin_or_type1\ninclude:\n"
        "  - any: [{medication: {rxnorm: 860975}}, {condition: {icd10: E10}}]\n"
        "  - sex: female\n"
    )
    rows = con.execute(compile_cohort(cohort) + " order by 1").fetchall()  # type: ignore[arg-type]
    assert [(r[0], str(r[2]), r[3]) for r in rows] == [("a", "2024-01-01", "860975"), ("c", "2021-02-02", "E10")]


def test_materialize_sql_with_no_cohorts_makes_an_empty_table() -> None:
    con = population()
    con.execute(materialize_sql([]))
    assert con.execute("select count(*) from cohort_custom_members").fetchone() == (0,)
    assert [d[0] for d in con.execute("select * from cohort_custom_members").description] == [
        "person_id", "cohort", "onset_date", "evidence_code", "evidence_source", "risk_stratum",
        "attributed_payer", "attributed_provider",
    ]  # fmt: skip
