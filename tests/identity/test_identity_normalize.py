"""Normalization of each matching role: tables of inputs and the values expected by hand."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from medlake.silver.identity import normalize as nz
from medlake.silver.identity.features import map_distinct, prepare


@pytest.mark.parametrize(("text", "family", "given", "key"), [
    ("O'Brien-Smith Jr.", "obriensmith", "obrien", "obrien"),
    ("  MUÑOZ ", "munoz", "munoz", "munoz"),
    ("Mary-Ann", "maryann", "mary", "mary"),
    ("José Luis", "joseluis", "jose", "jose"),
    ("Bobby", "bobby", "bobby", "bob"),
    ("Robert", "robert", "robert", "bob"),
    ("Dr. Kathy", "kathy", "kathy", "catherine"),
    ("", None, None, None),
    (None, None, None, None),
    ("123", None, None, None),
])
def test_names(text: str | None, family: str | None, given: str | None, key: str | None) -> None:
    assert nz.family_name(text) == family
    assert nz.given_name(text) == given
    assert nz.given_canonical(text) == key


@pytest.mark.parametrize(("name", "code"), [
    ("robert", "R163"), ("rupert", "R163"), ("ashcraft", "A261"), ("tymczak", "T522"),
    ("pfister", "P236"), ("lee", "L000"), ("smith", "S530"), ("smyth", "S530"), ("", None), (None, None),
])
def test_soundex(name: str | None, code: str | None) -> None:
    assert nz.soundex(name) == code


@pytest.mark.parametrize(("text", "iso"), [
    ("1980-03-04", "1980-03-04"), ("19800304", "1980-03-04"), ("1980/03/04", "1980-03-04"),
    ("03/04/1980", "1980-03-04"), ("3/4/1980", "1980-03-04"), ("04-Mar-1980", "1980-03-04"),
    ("4 March 1980", "1980-03-04"), ("Mar 4, 1980", "1980-03-04"), ("1980-03-04T00:00:00", "1980-03-04"),
    ("198003041200", "1980-03-04"), ("02/30/1980", None), ("1900-01-01", None), ("1849-12-31", None),
    ("2031-01-01", None), ("unknown", None), ("", None), (None, None),
])
def test_birth_date(text: str | None, iso: str | None) -> None:
    assert nz.birth_date(text, today=date(2030, 1, 1)) == iso


@pytest.mark.parametrize(("text", "code"), [
    ("M", "M"), ("male", "M"), ("Male", "M"), ("F", "F"), ("FEMALE", "F"), ("woman", "F"),
    ("U", None), ("unknown", None), ("O", None), ("", None), (None, None),
])
def test_sex(text: str | None, code: str | None) -> None:
    assert nz.sex(text) == code


@pytest.mark.parametrize(("text", "digits"), [
    ("312-555-1234", "3125551234"), ("(312) 555-1234", "3125551234"), ("+1 312 555 1234", "3125551234"),
    ("312.555.1234 ext. 12", "3125551234"), ("3125551234x9", "3125551234"), ("0125551234", None),
    ("3121551234", None), ("555-1234", None), ("1234567890", None), ("2222222222", None), (None, None),
])
def test_phone(text: str | None, digits: str | None) -> None:
    assert nz.phone(text) == digits


@pytest.mark.parametrize(("text", "value"), [
    (" Jane.Doe@Example.COM ", "jane.doe@example.com"), ("jane@localhost", None), ("not an email", None), (None, None),
])
def test_email(text: str | None, value: str | None) -> None:
    assert nz.email(text) == value


@pytest.mark.parametrize(("text", "zip5"), [
    ("60601", "60601"), ("60601-1234", "60601"), ("606011234", "60601"), ("2134", "02134"),
    ("00000", None), ("6060", "06060"), ("ABCDE", None), (None, None),
])
def test_postal_code(text: str | None, zip5: str | None) -> None:
    assert nz.postal_code(text) == zip5


@pytest.mark.parametrize(("text", "line"), [
    ("123 North Main Street, Apt. #4", "123 n main st apt 4"),
    ("123 N. Main St Apt 4", "123 n main st apt 4"),
    ("P.O. Box 7", "po box 7"),
    ("45 First Avenue Suite 200", "45 1st ave ste 200"),
    ("", None),
])
def test_address_line(text: str, line: str | None) -> None:
    assert nz.address_line(text) == line


@pytest.mark.parametrize(("text", "digits"), [
    ("123-45-6789", None), ("078-05-1120", None), ("000-12-3456", None), ("666-12-3456", None),
    ("912-34-5678", None), ("123-00-4567", None), ("123-45-0000", None), ("111-11-1111", None),
    ("212-45-6789", "212456789"), ("212456789", "212456789"), ("21245678", None), (None, None),
])
def test_ssn(text: str | None, digits: str | None) -> None:
    assert nz.ssn(text) == digits


@pytest.mark.parametrize(("text", "code"), [
    ("IL", "IL"), ("il", "IL"), ("Illinois", "IL"), ("new york", "NY"), ("District of Columbia", "DC"),
    ("XX", None), (None, None),
])
def test_state(text: str | None, code: str | None) -> None:
    assert nz.state(text) == code


def test_city() -> None:
    assert [nz.city(c) for c in ("St. Louis", "Saint Louis", "  OAK   park ", "")] == ["st louis", "st louis", "oak park", None]


def test_map_distinct_calls_once_per_value() -> None:
    calls: list[str | None] = []

    def fn(v: str | None) -> str | None:
        calls.append(v)
        return None if v is None else v.upper()

    out = map_distinct(pa.chunked_array([["a", "b"], ["a", None, "b"]]), fn)
    assert out.to_pylist() == ["A", "B", "A", None, "B"]
    assert sorted(c for c in calls if c) == ["a", "b"]


def test_prepare_fills_absent_roles_with_null() -> None:
    t = prepare(pa.table({"record_id": ["1"], "family_name": ["Smith"]}))
    row = t.to_pylist()[0]
    assert row["family"] == "smith" and row["family_sx"] == "S530"
    assert row["given"] is None and row["birth_date"] is None and row["phone"] is None
