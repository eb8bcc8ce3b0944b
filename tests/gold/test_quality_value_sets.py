"""medlake.gold.value_sets: the tenant's value-set CSV files, validated with exact messages."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from medlake.errors import ConfigError
from medlake.gold.value_sets import ValueSetMember, load_value_sets, write_value_sets

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def test_loads_every_csv_with_aliases(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text(
        "value_set,code_system,code\n"
        "qualifying_visit,CPT,99213\n"
        "\n"
        "hospice,http://snomed.info/sct, 385763009 \n",
        encoding="utf-8",
    )
    (tmp_path / "a.csv").write_text(
        "\ufeffvalue_set,code_system,code\nqualifying_visit,http://www.nlm.nih.gov/research/umls/hcpcs,G0402\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert load_value_sets(tmp_path) == [
        ValueSetMember("qualifying_visit", HCPCS, "G0402", "a.csv", 2),
        ValueSetMember("qualifying_visit", CPT, "99213", "b.csv", 2),
        ValueSetMember("hospice", "http://snomed.info/sct", "385763009", "b.csv", 4),
    ]
    assert load_value_sets(None) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the header must be `value_set,code_system,code`, found `an empty file`"),
        ("set,system,code\n", "line 1: the header must be `value_set,code_system,code`, found `set,system,code`"),
        ("value_set,code_system,code\nqualifying_visit,cpt\n",
         "line 2: expected 3 fields (value_set,code_system,code), found 2"),
        ("value_set,code_system,code\nOffice Visit,cpt,99213\n",
         "line 2: value_set `Office Visit` must be lower-case letters, digits and `_`, starting with a "
         "letter (e.g. `qualifying_visit`)"),
        ("value_set,code_system,code\nqualifying_visit,cpt,\n", "line 2: code is empty"),
        ("value_set,code_system,code\nqualifying_visit,cpt4,99213\n",
         "line 2: code_system `cpt4` is neither a URI nor a known short name; use a FHIR system URI or "
         "one of cpt, cvx, hcpcs, icd-10-cm, icd-10-pcs, loinc, rxnorm, snomed, snomed-ct"),
    ],
)  # fmt: skip
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_value_sets(tmp_path)
    assert str(err.value) == f"value-set file `{path}` {message}"
    assert err.value.context["file"] == str(path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_value_sets(tmp_path / "nope")
    assert str(err.value) == (
        f"value-set folder `{tmp_path / 'nope'}` does not exist; create it or fix `value_sets_dir` of the tenant"
    )


def test_write_value_sets_empty_and_full() -> None:
    con = duckdb.connect()
    write_value_sets(con, [])
    assert con.execute("SELECT count(*) FROM gold_inputs.quality_user_value_sets").fetchone() == (0,)
    write_value_sets(con, [ValueSetMember("qualifying_visit", CPT, "99213", "v.csv", 2)])
    assert con.execute("SELECT * FROM gold_inputs.quality_user_value_sets").fetchall() == [
        ("qualifying_visit", CPT, "99213", "v.csv")
    ]
