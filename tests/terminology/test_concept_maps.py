"""Tenant concept maps: a good file, and bad files with their exact errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from medlake.errors import ConfigError
from medlake.silver.terminology.concept_maps import MapTarget, load_concept_maps

LAB = "urn:medlake:acme:lab/codes/L"
LOINC = "http://loinc.org"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HEADER = "source_system,source_code,target_system,target_code,target_display,equivalence\n"


def _write(tmp: Path, text: str, name: str = "labs.csv") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + (
        f"{LAB},A1C,{LOINC},4548-4,Hemoglobin A1c/Hemoglobin.total in Blood,equivalent\n"
        f"{LAB},GLU,{LOINC},2345-7,\"Glucose [Mass/volume] in Serum or Plasma\",\n"
        "\n"
        f"{LAB},GLU,{LOINC},2339-0,Glucose [Mass/volume] in Blood,wider\n"
        f"{LAB},MISC,,,,unmatched\n"
    ))
    maps = load_concept_maps([p])
    assert len(maps) == 3
    assert maps.systems == frozenset({LAB})
    assert maps.lookup(LAB, "A1C") == (MapTarget(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "equivalent", "labs"),)
    assert maps.lookup(LAB, "GLU") == (
        MapTarget(LOINC, "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "equivalent", "labs"),
        MapTarget(LOINC, "2339-0", "Glucose [Mass/volume] in Blood", "wider", "labs"),
    )
    assert maps.lookup(LAB, "MISC") == (MapTarget("", "", None, "unmatched", "labs"),)
    assert maps.lookup(LAB, "NOPE") == ()


def test_columns_in_any_order_optional_ones_left_out_and_a_bom(tmp_path: Path) -> None:
    p = _write(tmp_path, "\ufefftarget_code,target_system,source_code,source_system\n4548-4,http://loinc.org,A1C,urn:x:lab\n")
    assert load_concept_maps([p]).lookup("urn:x:lab", "A1C") == (MapTarget(LOINC, "4548-4", None, "equivalent", "labs"),)


def test_ndc_sources_are_normalized_to_11_digits(tmp_path: Path) -> None:
    p = _write(tmp_path, f"source_system,source_code,target_system,target_code\n{NDC},0006-0740-31,{RXNORM},312961\n", "ndc_rxnorm.csv")
    assert load_concept_maps([p]).lookup(NDC, "00006074031") == (MapTarget(RXNORM, "312961", None, "equivalent", "ndc_rxnorm"),)


def test_several_files_add_up(tmp_path: Path) -> None:
    a = _write(tmp_path, f"source_system,source_code,target_system,target_code\n{LAB},A1C,{LOINC},4548-4\n", "a.csv")
    b = _write(tmp_path, f"source_system,source_code,target_system,target_code\n{LAB},A1C,{LOINC},17856-6\n", "b.csv")
    assert [t.code for t in load_concept_maps([a, b]).lookup(LAB, "A1C")] == ["4548-4", "17856-6"]


def _error(tmp: Path, text: str) -> str:
    p = _write(tmp, text)
    with pytest.raises(ConfigError) as e:
        load_concept_maps([p])
    assert e.value.context["path"] == str(p)
    return e.value.message.replace(str(p), "F")


BAD = [
    ("", "concept map `F` has 1 problem(s):\n  line 1: the file is empty; the first line must be the header: "
     "source_system,source_code,target_system,target_code,target_display,equivalence"),
    ("source_system,source_code,target_sytem,target_code\n",
     "concept map `F` has 2 problem(s):\n"
     "  line 1 column 3: unknown column `target_sytem`; did you mean `target_system`? columns are: "
     "source_system, source_code, target_system, target_code, target_display, equivalence\n"
     "  line 1: missing column `target_system`; required columns are: source_system, source_code, target_system, target_code"),
    ("source_system,source_code,target_system,target_code,source_code\n",
     "concept map `F` has 1 problem(s):\n  line 1 column 5: column `source_code` appears twice (also column 2)"),
    (HEADER + f"{LAB},A1C,{LOINC},4548-4\n",
     "concept map `F` has 1 problem(s):\n  line 2: 4 values, but the header has 6 columns"),
    (HEADER + f"{LAB},,{LOINC},4548-4,,\n",
     "concept map `F` has 1 problem(s):\n  line 2 column 2: `source_code` is empty"),
    (HEADER + "LAB,A1C,LN,4548-4,,\n",
     "concept map `F` has 2 problem(s):\n"
     "  line 2 column 1: `LAB` is not a code system URI (e.g. `http://loinc.org`)\n"
     "  line 2 column 3: `LN` is not a code system URI (e.g. `http://loinc.org`)"),
    (HEADER + f"{LAB},A1C,{LOINC},4548-4,,same\n",
     "concept map `F` has 1 problem(s):\n  line 2 column 6: `same` is not a FHIR equivalence; use one of: "
     "relatedto, equivalent, equal, wider, subsumes, narrower, specializes, inexact, unmatched, disjoint"),
    (HEADER + f"{NDC},0006074031,{RXNORM},312961,,\n",
     "concept map `F` has 1 problem(s):\n  line 2 column 2: 10-digit NDC `0006074031` without hyphens is ambiguous "
     "(4-4-2, 5-3-2 or 5-4-1); send it hyphenated or as 11 digits"),
    (HEADER + f"{LAB},A1C,{LOINC},4548-4,,\n{LAB},CHOL,{LOINC},2093-3,,\n{LAB},A1C,{LOINC},4548-4,HbA1c,\n",
     "concept map `F` has 1 problem(s):\n  line 4: repeats the mapping of line 2 (`A1C` → `4548-4`)"),
    (HEADER + f"{LAB},A1C,{LOINC},,,narrower\n",
     "concept map `F` has 1 problem(s):\n  line 2 column 4: `target_code` is empty"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_files_name_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


def test_many_problems_are_capped(tmp_path: Path) -> None:
    rows = "".join(f"{LAB},,{LOINC},x,,\n" for _ in range(12))
    message = _error(tmp_path, HEADER + rows)
    assert message.startswith("concept map `F` has 12 problem(s):\n  line 2 column 2: `source_code` is empty\n")
    assert message.endswith("  line 11 column 2: `source_code` is empty\n  … and 2 more")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_concept_maps([tmp_path / "gone.csv"])
    assert e.value.message == f"concept map `{tmp_path / 'gone.csv'}` not found; fix the path in `terminology.concept_maps`"


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.csv"
    # the header is 79 bytes, `urn:x,CAF` 9 more: É is byte 88
    p.write_bytes(HEADER.encode() + "urn:x,CAFÉ,http://loinc.org,1-8,,\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 88\); save it as UTF-8"):
        load_concept_maps([p])
