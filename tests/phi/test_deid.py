"""Safe Harbor de-identification, one test per category, on hand-made tables.

Every expected value is worked out by hand from 45 CFR 164.514(b)(2) and docs/phi.md; the
pseudonyms are checked against Python's own `hmac` (an independent HMAC-SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
from datetime import date
from typing import Any

import pytest

from medlake.errors import ConfigError
from medlake.lake.catalog import duckdb_connect
from medlake.silver.phi.deid import RESTRICTED_ZIP3, UnclassifiedColumnsWarning, deidentify

KEY = bytes(range(32))
AS_OF = date(2025, 5, 1)


def pseudonym(value: str, key: bytes = KEY) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture
def con() -> Any:
    c = duckdb_connect()
    c.execute("SET TimeZone = 'America/Chicago'")  # years must come from UTC, not the session
    c.execute("CREATE SCHEMA views; CREATE SCHEMA gold")
    yield c
    c.close()


def run(con: Any, table: str, columns: str, values: str, **kw: Any) -> dict[str, Any]:
    """De-identify a one-row `table` made of `columns` (SQL column defs) and `values`."""
    con.execute(f"CREATE TABLE {table} ({columns})")
    con.execute(f"INSERT INTO {table} VALUES ({values})")
    d = deidentify(con, table, key=KEY, as_of=AS_OF, **kw)
    cur = con.execute(d.sql)
    names = [c[0] for c in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def test_a_names_removed(con: Any) -> None:
    assert run(con, "views.patient", "family_name VARCHAR, given_name VARCHAR, gender VARCHAR", "'Rivera', 'Ana', 'female'") == {
        "gender": "female"
    }


@pytest.mark.parametrize(
    ("postal_code", "zip3"),
    [
        ("60601", "606"),
        ("60601-1234", "606"),
        ("606011234", "606"),
        ("03601", "000"),  # 036 is one of the 17 restricted areas
        ("89301", "000"),
        ("10201", "000"),
        ("10301", "103"),
        ("N1 9GU", None),  # not a US ZIP: nothing kept
        ("6060", None),
        (None, None),
    ],
)
def test_b_geographic_street_and_city_removed_zip_to_3_digits(con: Any, postal_code: str | None, zip3: str | None) -> None:
    value = "NULL" if postal_code is None else f"'{postal_code}'"
    row = run(
        con, "views.patient", "address_line VARCHAR, city VARCHAR, state VARCHAR, postal_code VARCHAR",
        f"'12 Elm St, Apt 4', 'Chicago', 'IL', {value}",
    )
    assert row == {"state": "IL", "zip3": zip3}


def test_b_the_restricted_zip3_list_is_the_census_list() -> None:
    assert sorted(RESTRICTED_ZIP3) == [
        "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893",
    ]


def test_c_dates_become_years_in_utc(con: Any) -> None:
    row = run(
        con, "views.condition",
        "onset_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, created DATE, serviced_date DATE, deceased_at TIMESTAMPTZ",
        "TIMESTAMPTZ '2023-05-17 10:00:00+00', TIMESTAMPTZ '2023-12-31 23:30:00-06', DATE '2023-05-17', "
        "DATE '2021-02-28', NULL",
    )
    # 2023-12-31 23:30 in Chicago is 2024-01-01 05:30 UTC
    assert row == {"onset_year": 2023, "recorded_year": 2024, "created_year": 2023, "serviced_year": 2021, "deceased_year": None}


@pytest.mark.parametrize(("age", "out"), [(91, 90), (90, 90), (89, 89), (45, 45), (120, 90)])
def test_c_ages_over_89_become_90(con: Any, age: int, out: int) -> None:
    assert run(con, "gold.dim_patient", "age_years BIGINT", str(age)) == {"age_years": out}


@pytest.mark.parametrize(
    ("birth", "year"),
    [
        ("1950-01-01", 1950),
        ("1935-05-02", 1935),  # 89 on 2025-05-01: the real year, which is also the cap
        ("1935-05-01", 1935),  # 90 that day: aggregated
        ("1934-06-01", 1935),  # 90: aggregated to 2025 - 90
        ("1920-03-03", 1935),  # 105: aggregated
        ("2023-05-17", 2023),
    ],
)
def test_c_birth_dates_become_years_and_90_plus_share_one(con: Any, birth: str, year: int) -> None:
    assert run(con, "views.patient", "birth_date DATE", f"DATE '{birth}'") == {"birth_year": year}


def test_c_birth_year_of_a_partial_text_date(con: Any) -> None:
    con.execute("CREATE TABLE views.patient (birth_date VARCHAR)")
    con.execute("INSERT INTO views.patient VALUES ('1930'), ('1980-04'), ('unknown'), (NULL)")
    d = deidentify(con, "views.patient", key=KEY, as_of=AS_OF)
    assert con.execute(d.sql).fetchall() == [(1935,), (1980,), (None,), (None,)]


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("views.patient", "phone", "'+1 312 555 0100'"),  # D
        ("gold.my_mart", "fax", "'312 555 0199'"),  # E
        ("views.patient", "email", "'ana@example.org'"),  # F
        ("gold.my_mart", "ssn", "'123-45-6789'"),  # G
        ("views.patient", "mrn", "'1001'"),  # H
        ("views.coverage", "member_id", "'ZX123456789'"),  # I
        ("views.coverage", "subscriber_id", "'ZX123456700'"),  # I
        ("views.claim", "payer_claim_number", "'PCN-77'"),  # J
        ("gold.my_mart", "license_number", "'D123-4567-8901'"),  # K
        ("gold.my_mart", "vehicle_id", "'1HGCM82633A004352'"),  # L
        ("gold.my_mart", "device_serial", "'FT-9F4FCAA448'"),  # M
        ("gold.my_mart", "url", "'https://ana.example.org'"),  # N
        ("gold.my_mart", "ip_address", "'192.0.2.7'"),  # O
        ("gold.my_mart", "biometric", "'fingerprint:ab12'"),  # P
        ("gold.my_mart", "photo", "'photo.jpg'"),  # Q
        ("views.patient", "source_id", "'1001'"),  # R
        ("views.medication_request", "dosage_text", "'take one, call Ana at 555-0100'"),  # free text
        ("views.observation", "value_string", "'pt Ana Rivera'"),  # free text
    ],
)
def test_d_to_r_identifiers_and_free_text_removed(con: Any, table: str, column: str, value: str) -> None:
    con.execute(f"CREATE TABLE {table} ({column} VARCHAR, status VARCHAR)")
    con.execute(f"INSERT INTO {table} VALUES ({value}, 'final')")
    d = deidentify(con, table, key=KEY, as_of=AS_OF)
    assert d.removed == [column]
    assert con.execute(d.sql).fetchall() == [("final",)]
    assert [c.name for c in d.columns] == ["status"]


def test_r_join_ids_become_keyed_pseudonyms_that_still_join(con: Any) -> None:
    row = run(con, "views.encounter", "id VARCHAR, patient_id VARCHAR, claim_id VARCHAR", "'e1', 'p1', 'CLM-1'")
    assert row == {"id": pseudonym("e1"), "patient_id": pseudonym("p1"), "claim_id": pseudonym("CLM-1")}
    other = run(con, "gold.fct_conditions", "patient_id VARCHAR, patient_ids VARCHAR[]", "'p1', ['p1', 'p2']")
    assert other == {"patient_id": pseudonym("p1"), "patient_ids": [pseudonym("p1"), pseudonym("p2")]}


def test_r_another_key_gives_other_pseudonyms(con: Any) -> None:
    con.execute("CREATE TABLE views.condition (patient_id VARCHAR)")
    con.execute("INSERT INTO views.condition VALUES ('p1')")
    d = deidentify(con, "views.condition", key=b"\x01" * 32, as_of=AS_OF)
    assert con.execute(d.sql).fetchall() == [(pseudonym("p1", b"\x01" * 32),)]
    assert pseudonym("p1", b"\x01" * 32) != pseudonym("p1")


def test_the_key_is_not_in_the_sql(con: Any) -> None:
    con.execute("CREATE TABLE views.condition (patient_id VARCHAR)")
    d = deidentify(con, "views.condition", key=KEY, as_of=AS_OF)
    assert KEY.hex() not in d.sql and "getvariable('medlake_phi_key_outer')" in d.sql


def test_practitioner_names_are_kept(con: Any) -> None:
    row = run(con, "views.practitioner", "id VARCHAR, family_name VARCHAR, npi VARCHAR", "'pr1', 'House', '1234567893'")
    assert row == {"id": "pr1", "family_name": "House", "npi": "1234567893"}


def test_unclassified_columns_are_dropped_with_a_warning(con: Any) -> None:
    con.execute("CREATE TABLE gold.my_mart (patient_id VARCHAR, nickname VARCHAR, secret_code VARCHAR)")
    with pytest.warns(UnclassifiedColumnsWarning) as w:
        d = deidentify(con, "gold.my_mart", key=KEY, as_of=AS_OF)
    assert str(w[0].message) == (
        "de-identifying gold.my_mart: dropped columns the PHI catalogue does not classify: nickname, secret_code"
    )
    assert d.unknown == ["nickname", "secret_code"]
    assert [c.name for c in d.columns] == ["patient_id"]


BAD = [
    (
        "patient",
        {},
        "`patient` is not a table name; give `<schema>.<table>`, e.g. `views.patient` or `gold.patient_360`",
    ),
    ("views.patien", {}, "`views.patien` is not a table of this lake. Did you mean `views.patient`?"),
    (
        "gold.my_mart",
        {"unknown": "raise"},
        "`gold.my_mart` has columns the PHI catalogue does not classify: nickname; "
        "add them to medlake/silver/phi/catalogue.py (PHI or not PHI)",
    ),
    ("views.names_only", {}, "`views.names_only` has no column left after de-identification"),
]


@pytest.mark.parametrize(("table", "kw", "message"), BAD)
def test_bad_inputs_and_their_messages(con: Any, table: str, kw: dict[str, Any], message: str) -> None:
    con.execute("CREATE TABLE views.patient (id VARCHAR)")
    con.execute("CREATE TABLE gold.my_mart (id VARCHAR, nickname VARCHAR)")
    con.execute("CREATE TABLE views.names_only (family_name VARCHAR)")
    with pytest.raises(ConfigError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore", UnclassifiedColumnsWarning)
        deidentify(con, table, key=KEY, as_of=AS_OF, **kw)
    assert e.value.message == message


def test_a_short_key_is_refused(con: Any) -> None:
    con.execute("CREATE TABLE views.patient (id VARCHAR)")
    with pytest.raises(ConfigError) as e:
        deidentify(con, "views.patient", key=b"short", as_of=AS_OF)
    assert e.value.message == "the pseudonym key has 5 bytes; it needs at least 16 (32 recommended)"


def test_a_whole_patient_row(con: Any) -> None:
    """The example of docs/phi.md."""
    row = run(
        con, "views.patient",
        "id VARCHAR, source VARCHAR, mrn VARCHAR, family_name VARCHAR, given_name VARCHAR, birth_date DATE, "
        "gender VARCHAR, address_line VARCHAR, city VARCHAR, state VARCHAR, postal_code VARCHAR, phone VARCHAR, "
        "email VARCHAR, race VARCHAR, last_updated TIMESTAMPTZ",
        "'p1', 'ehr', '1001', 'Rivera', 'Ana', DATE '1931-02-14', 'female', '12 Elm St', 'Chicago', 'IL', "
        "'60601', '312-555-0100', 'ana@example.org', 'White', TIMESTAMPTZ '2024-07-01 00:00:00+00'",
    )
    assert row == {
        "id": pseudonym("p1"), "source": "ehr", "birth_year": 1935, "gender": "female", "state": "IL",
        "zip3": "606", "race": "White", "last_updated_year": 2024,
    }
