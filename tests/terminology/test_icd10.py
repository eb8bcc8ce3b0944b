"""ICD-10-CM validation by the service date's fiscal year (FY N = 1 Oct N-1 … 30 Sep N)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from medlake.errors import ConfigError
from medlake.silver.terminology.icd10 import (
    Icd10Check,
    Icd10Lists,
    description,
    dotted_icd10,
    fiscal_year,
)


@pytest.mark.parametrize(
    ("day", "fy"),
    [(date(2023, 9, 30), 2023), (date(2023, 10, 1), 2024), (date(2024, 1, 1), 2024), (date(2023, 12, 31), 2024)],
)
def test_fiscal_year_boundaries(day: date, fy: int) -> None:
    assert fiscal_year(day) == fy


@pytest.fixture
def lists(tmp_path: Path) -> Icd10Lists:
    # a made-up FY2023 list without E88.810 (metabolic syndrome, new on 1 Oct 2023, FY2024)
    (tmp_path / "icd10cm-codes-2023.txt").write_text(
        "# FY2023 (test subset)\nE119    Type 2 diabetes mellitus without complications\nI10\n\nE66.9 Obesity\n", encoding="utf-8"
    )
    return Icd10Lists(tmp_path)


def test_the_list_changes_on_october_first(lists: Icd10Lists) -> None:
    assert lists.years == (2023, 2024)
    sep30 = lists.check("E88.810", date(2023, 9, 30))
    assert sep30 == Icd10Check("E88810", False, 2023, 2023, "`E88810` is not a valid (billable) code in the FY2023 ICD-10-CM list")
    oct1 = lists.check("E88.810", date(2023, 10, 1))
    assert oct1 == Icd10Check("E88810", True, 2024, 2024)


@pytest.mark.parametrize("written", ["E11.9", "E119", " e11.9 ", "e119"])
def test_dotted_or_undotted(lists: Icd10Lists, written: str) -> None:
    assert lists.check(written, date(2023, 5, 1)) == Icd10Check("E119", True, 2023, 2023)


def test_user_list_descriptions_and_dots_are_read(lists: Icd10Lists) -> None:
    assert lists.codes(2023) == frozenset({"E119", "I10", "E669"})


def test_category_header_is_not_billable() -> None:
    r = Icd10Lists().check("E11", date(2024, 3, 1))
    assert (r.valid, r.reason) == (False, "`E11` is not a valid (billable) code in the FY2024 ICD-10-CM list")


@pytest.mark.parametrize("bad", ["250.00", "11.9", "E", "E119999X"])
def test_malformed_code(bad: str) -> None:
    r = Icd10Lists().check(bad, date(2024, 3, 1))
    assert not r.valid
    assert r.reason == f"`{bad}` is not shaped like an ICD-10-CM code (a letter, a digit, then 1 to 5 letters or digits)"


def test_no_list_for_the_year_uses_the_nearest_and_says_so(lists: Icd10Lists) -> None:
    r = lists.check("I10", date(2019, 6, 1))
    assert r == Icd10Check("I10", True, 2023, 2019, None, "no ICD-10-CM list for FY2019; checked against FY2023")
    r = lists.check("I10", date(2030, 6, 1))
    assert (r.list_year, r.note) == (2024, "no ICD-10-CM list for FY2030; checked against FY2024")


def test_tie_goes_to_the_later_list(tmp_path: Path) -> None:
    (tmp_path / "fy2022.txt").write_text("I10\n", encoding="utf-8")
    assert Icd10Lists(tmp_path).nearest(2023) == 2024


def test_no_date_uses_the_latest_list(lists: Icd10Lists) -> None:
    r = lists.check("U07.1", None)
    assert r == Icd10Check("U071", True, 2024, None, None, "no service date; checked against the FY2024 list")


def test_shipped_list_and_descriptions() -> None:
    assert Icd10Lists().years == (2024,)
    assert description("E119") == "Type 2 diabetes mellitus without complications"
    assert dotted_icd10("E119") == "E11.9" and dotted_icd10("I10") == "I10"


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        Icd10Lists(tmp_path / "nope")
    assert e.value.message == (
        f"ICD-10-CM code-list folder `{tmp_path / 'nope'}` does not exist or is not a folder; "
        "create it or fix `terminology.icd10cm_code_lists`"
    )


def test_file_name_without_a_year(tmp_path: Path) -> None:
    (tmp_path / "codes.txt").write_text("I10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"must contain its fiscal year, e.g. `icd10cm-codes-2025.txt`"):
        Icd10Lists(tmp_path)


def test_two_lists_for_one_year(tmp_path: Path) -> None:
    (tmp_path / "a-2025.txt").write_text("I10\n", encoding="utf-8")
    (tmp_path / "b-2025.txt").write_text("I10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"are both code lists for FY2025; keep one"):
        Icd10Lists(tmp_path)


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm-codes-2025.txt"
    path.write_text("I10\nE119\n250.00 Diabetes\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        Icd10Lists(tmp_path)
    assert e.value.message.startswith(f"`{path}` line 3: `250.00` is not an ICD-10-CM code;")
    assert e.value.context["line"] == 3
