"""The unmapped-codes report: counts add up over batches, first/last batch kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from medlake.lake import delta
from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake
from medlake.silver.terminology.report import record

NDC = "http://hl7.org/fhir/sid/ndc"
LAB = "urn:medlake:t:lab/codes/L"


def test_counts_accumulate_and_batches_are_kept(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    record(lake, "pharmacy", Counter({(NDC, "00049490066", "ndc-no-rxnorm"): 3}), "b1")
    record(lake, "pharmacy", Counter({(NDC, "00049490066", "ndc-no-rxnorm"): 2, (NDC, "12", "ndc-invalid"): 1}), "b2")
    record(lake, "lab", Counter({(LAB, "BNP", "local-unmapped"): 4}), "b2")
    record(lake, "lab", Counter(), "b3")
    con = connect(lake, gold=False)
    rows = con.execute(
        "select source, system, code, reason, count, first_batch, last_batch, first_seen_at <= last_seen_at "
        "from meta.unmapped_codes order by source, code"
    ).fetchall()
    assert rows == [
        ("lab", LAB, "BNP", "local-unmapped", 4, "b2", "b2", True),
        ("pharmacy", NDC, "00049490066", "ndc-no-rxnorm", 5, "b1", "b2", True),
        ("pharmacy", NDC, "12", "ndc-invalid", 1, "b2", "b2", True),
    ]


def test_an_empty_report_still_creates_the_table(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    record(lake, "ehr", Counter(), "b1")
    assert delta.exists(lake.meta("unmapped_codes"))
    assert connect(lake, gold=False).execute("select count(*) from meta.unmapped_codes").fetchall() == [(0,)]
