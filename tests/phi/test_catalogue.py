"""The PHI catalogue classifies every column that ships, and every resource type silver holds.

The column lists come from the real views and gold marts built on a small lake (conftest):
adding a column to a view or a mart without classifying it in
`medlake/silver/phi/catalogue.py` makes `test_every_view_and_mart_column_is_classified` fail.
"""

from __future__ import annotations

import pytest

from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake
from medlake.silver.phi import catalogue
from medlake.silver.phi.catalogue import FREE_TEXT, Treatment, classify
from medlake.silver.phi.categories import BY_CODE, CATEGORIES, DIRECT, category
from medlake.silver.views.flat import VIEWS

# `select distinct resource_type` over a 500-person synthetic lake (every feed kind), plus the
# types the shipped views read that the synthetic feeds do not produce
SILVER_TYPES = [
    "Appointment", "ChargeItem", "Claim", "Condition", "Coverage", "Device", "DiagnosticReport",
    "Encounter", "ExplanationOfBenefit", "Immunization", "Location", "MedicationDispense",
    "MedicationRequest", "Observation", "Organization", "Patient", "PaymentReconciliation",
    "Practitioner", "Procedure", "ServiceRequest", "AllergyIntolerance", "ClaimResponse",
]


def _columns(lake: TenantLake) -> dict[str, list[str]]:
    con = connect(lake)
    try:
        rows = con.execute(
            "SELECT DISTINCT table_schema || '.' || table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN ('views', 'gold') ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


@pytest.mark.slow
def test_every_view_and_mart_column_is_classified(phi_lake: TenantLake) -> None:
    tables = _columns(phi_lake)
    assert {f"views.{v}" for v in VIEWS} <= set(tables)
    assert {"gold.patient_360", "gold.dim_patient", "gold.rcm_reconciliation"} <= set(tables)
    unclassified = [f"{t}.{c}" for t, cols in sorted(tables.items()) for c in cols if classify(t, c) is None]
    assert unclassified == [], f"classify {unclassified} in medlake/silver/phi/catalogue.py (PHI or not PHI)"


@pytest.mark.slow
def test_the_patient_view_classification_by_hand(phi_lake: TenantLake) -> None:
    cols = _columns(phi_lake)["views.patient"]
    got = {c: (r.category, r.treatment.value) for c in cols if (r := classify("views.patient", c))}
    assert got == {
        "id": ("other_id", "pseudonym"),
        "source": (None, "keep"),
        "source_system": (None, "keep"),
        "source_id": ("other_id", "drop"),
        "mrn": ("mrn", "drop"),
        "family_name": ("names", "drop"),
        "given_name": ("names", "drop"),
        "birth_date": ("dates", "birth_year"),
        "deceased": (None, "keep"),
        "deceased_at": ("dates", "year"),
        "gender": (None, "keep"),
        "address_line": ("geographic", "drop"),
        "city": ("geographic", "drop"),
        "state": (None, "keep"),
        "postal_code": ("geographic", "zip3"),
        "phone": ("phone", "drop"),
        "email": ("email", "drop"),
        "race": (None, "keep"),
        "race_code": (None, "keep"),
        "ethnicity": (None, "keep"),
        "ethnicity_code": (None, "keep"),
        "last_updated": ("dates", "year"),
    }


def test_overrides_practitioner_names_are_not_patient_phi() -> None:
    assert classify("views.practitioner", "family_name") == catalogue.TABLE_COLUMNS["views.practitioner"]["family_name"]
    assert classify("views.practitioner", "family_name").treatment is Treatment.KEEP  # type: ignore[union-attr]
    assert classify("views.patient", "family_name").treatment is Treatment.DROP  # type: ignore[union-attr]
    assert classify("views.patient", "no_such_column") is None


def test_eighteen_categories_in_the_order_of_the_rule() -> None:
    assert [c.letter for c in CATEGORIES] == list("ABCDEFGHIJKLMNOPQR")
    assert len(BY_CODE) == 18
    assert category("ssn").citation == "45 CFR 164.514(b)(2)(i)(G)"
    assert set(BY_CODE) - {"dates", "other_id"} == DIRECT


def test_unknown_category_code_error_names_the_valid_codes() -> None:
    from medlake.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        category("zip")
    assert e.value.message.startswith("`zip` is not a Safe Harbor category code; use one of: names, geographic, dates,")


@pytest.mark.parametrize("rtype", SILVER_TYPES)
def test_every_silver_resource_type_is_catalogued(rtype: str) -> None:
    assert catalogue.elements_of(rtype) or rtype in catalogue.NOT_PHI_RESOURCES


def test_catalogue_uses_only_known_categories() -> None:
    codes = set(BY_CODE) | {FREE_TEXT}
    assert {e.category for e in catalogue.ELEMENTS} <= codes
    assert {r.category for r in catalogue.COLUMNS.values() if r.category} <= codes


@pytest.mark.parametrize(
    ("path", "cat"),
    [
        ("Patient.name", "names"),
        ("Patient.address.line", "geographic"),
        ("Patient.birthDate", "dates"),
        ("Encounter.period.start", "dates"),
        ("Claim.identifier", "account"),
        ("Device.serialNumber", "device"),
        ("Coverage.subscriberId", "health_plan_id"),
    ],
)
def test_named_elements_carry_their_category(path: str, cat: str) -> None:
    assert any(e.path == path and e.category == cat and not e.where for e in catalogue.ELEMENTS)


def test_typed_identifier_elements_describe_their_filter() -> None:
    mrn = next(e for e in catalogue.elements_of("Patient") if e.category == "mrn")
    assert mrn.describe() == "Patient.identifier.where(type.coding.code in (MR))"
