"""The claims feed of the synthetic health system through land → bronze → silver → gold, with
rcm_reconciliation checked to the cent against totals computed independently: from the X12
text with a plain split (no medlake parser, no mapping) and the generator's ground truth.

The independent side reads every `claims/*.x12` file as segments (`~`) of elements (`*`):

- billed = Σ CLM02 of the latest version of every claim (file order; voids, CLM05-3 = 8, out);
- paid = Σ CLP04, adjustments = Σ CAS amounts of every group but PR, patient responsibility =
  Σ CAS PR, adjudicated = Σ CLP03 — over every CLP (originals, reversals with their negated
  amounts, corrections), so a reversed-and-reissued claim nets to its reissue;
- outstanding = billed − adjudicated, per claim;
- deposits = Σ BPR02, PLB = Σ PLB amounts.

The generator injects one 835 claim whose CAS add up to more than CLP03 − CLP04
(`x12_835_unbalanced` in truth/defects.csv): gold must flag exactly that claim.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from medlake.config import ProjectConfig, load_config
from medlake.pipeline import run
from medlake.synth.generate import generate

pytestmark = pytest.mark.slow
PATIENTS = 150
SEED = 5
ZERO = Decimal(0)


@dataclass
class X12Totals:
    """What the X12 text says, per claim (CLM01 = CLP01)."""

    billed: dict[str, Decimal] = field(default_factory=dict)
    voided: set[str] = field(default_factory=set)
    set_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # CLM01 → (file, ST02)
    charge: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    paid: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    adjustments: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    patient: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    denied: set[str] = field(default_factory=set)
    reversed: set[str] = field(default_factory=set)
    plb: Decimal = ZERO
    deposits: Decimal = ZERO
    payments: int = 0


def segments(path: Path) -> Iterator[list[str]]:
    """A padded ISA fixes the separators: element at 3, terminator at 105."""
    text = path.read_bytes().decode("utf-8")
    element, terminator = text[3], text[105]
    for raw in text.split(terminator):
        seg = raw.strip()
        if seg:
            yield seg.split(element)


def read_x12(folder: Path) -> X12Totals:
    out = X12Totals()
    for path in sorted(folder.glob("837*.x12")):
        st02 = ""
        for e in segments(path):
            if e[0] == "ST":
                st02 = e[2]
            elif e[0] == "CLM":
                out.billed[e[1]] = Decimal(e[2])
                out.set_of[e[1]] = (f"claims/{path.name}", st02)
                frequency = e[5].split(":")[2] if e[5].count(":") >= 2 else "1"
                (out.voided.add if frequency == "8" else out.voided.discard)(e[1])
    for path in sorted(folder.glob("835*.x12")):
        claim = None
        for e in segments(path):
            tag = e[0]
            if tag == "BPR":
                out.deposits += Decimal(e[2])
                out.payments += 1
            elif tag == "CLP":
                claim = e[1]
                out.charge[claim] += Decimal(e[3])
                out.paid[claim] += Decimal(e[4])
                if e[2] == "4":
                    out.denied.add(claim)
                if e[2] == "22":
                    out.reversed.add(claim)
            elif tag == "CAS" and claim is not None:
                bucket = out.patient if e[1] == "PR" else out.adjustments
                for k in range(3, len(e), 3):  # CAS03, CAS06 … the amounts
                    if e[k]:
                        bucket[claim] += Decimal(e[k])
            elif tag == "PLB":
                claim = None
                for k in range(4, len(e), 2):  # PLB04, PLB06 … the amounts
                    if e[k]:
                        out.plb += Decimal(e[k])
            elif tag == "SE":
                claim = None
    return out


def truth_rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "truth" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ProjectConfig]:
    root = tmp_path_factory.mktemp("rcm_synth")
    generate(root, PATIENTS, seed=SEED)
    project = load_config(root / "medlake.yaml")
    run(project, "demo", stages=("land", "bronze", "silver", "gold"), sources=["claims"])
    return root, project


@pytest.fixture(scope="module")
def gold(built: tuple[Path, ProjectConfig]) -> Iterator[duckdb.DuckDBPyConnection]:
    root, _ = built
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(root / "lake" / "demo" / "gold" / "gold.duckdb")])
    yield con
    con.close()


def totals_row(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rel = con.sql("SELECT * FROM g.gold.rcm_reconciliation_totals")
    (row,) = rel.fetchall()
    return dict(zip(rel.columns, row, strict=True))


def test_x12_split_agrees_with_ground_truth(built: tuple[Path, ProjectConfig]) -> None:
    """The plain split finds every claim the generator says it wrote."""
    root, _ = built
    x12 = read_x12(root / "claims")
    records = truth_rows(root, "records.csv")
    assert set(x12.billed) == {r["record_key"] for r in records if r["kind"] in ("837P", "837I")}
    assert x12.billed and x12.paid and x12.plb < 0  # claims, remittances and some L6 interest


def test_reconciliation_totals_match_the_x12_to_the_cent(
    built: tuple[Path, ProjectConfig], gold: duckdb.DuckDBPyConnection
) -> None:
    root, _ = built
    x12 = read_x12(root / "claims")
    on_file = {r[0] for r in gold.sql("SELECT claim_id FROM g.gold.rcm_reconciliation").fetchall()}
    expected_ids = set(x12.billed) - x12.voided
    # a set that fails its envelope check may be quarantined: then exactly its claims are missing
    se_defects = {
        (d["file"], d["location"].split()[1])
        for d in truth_rows(root, "defects.csv")
        if d["defect"] == "x12_se_count"
    }
    missing = expected_ids - on_file
    assert on_file <= expected_ids
    assert all(x12.set_of[c] in se_defects for c in missing), sorted(missing)[:5]

    billed = sum((x12.billed[c] for c in on_file), ZERO)
    paid = sum((x12.paid[c] for c in on_file), ZERO)
    adjustments = sum((x12.adjustments[c] for c in on_file), ZERO)
    patient = sum((x12.patient[c] for c in on_file), ZERO)
    outstanding = sum((x12.billed[c] - x12.charge[c] for c in on_file), ZERO)
    t = totals_row(gold)
    assert (
        t["claims"],
        t["billed"],
        t["paid"],
        t["adjustments"],
        t["patient_responsibility"],
        t["outstanding"],
    ) == (len(on_file), billed, paid, adjustments, patient, outstanding)
    assert t["difference"] == billed - paid - adjustments - patient - outstanding
    assert t["payments_posted"] == paid
    # the payment side: every CLP04, every PLB amount as sent, every BPR02
    assert t["claim_payments"] == sum(x12.paid.values(), ZERO)
    assert (t["plb_adjustments"], t["deposits"], t["payments"]) == (
        x12.plb,
        x12.deposits,
        x12.payments,
    )
    assert t["deposits_balanced"] is True
    assert t["unmatched_claims"] == len(set(x12.paid) - on_file - (set(x12.billed) - expected_ids))


def test_only_the_injected_defect_is_unbalanced(
    built: tuple[Path, ProjectConfig], gold: duckdb.DuckDBPyConnection
) -> None:
    root, _ = built
    x12 = read_x12(root / "claims")
    (defect,) = [d for d in truth_rows(root, "defects.csv") if d["defect"] == "x12_835_unbalanced"]
    bad = defect["location"].split()[1]  # `CLP01 <id> CLP07 <icn>`
    rows = gold.sql(
        "SELECT claim_id, difference FROM g.gold.rcm_reconciliation WHERE NOT balanced"
    ).fetchall()
    excess = x12.charge[bad] - x12.paid[bad] - x12.adjustments[bad] - x12.patient[bad]
    assert rows == [(bad, excess)]
    assert excess != 0
    t = totals_row(gold)
    assert (t["balanced"], t["unbalanced_claims"], t["difference"]) == (False, 1, excess)


def test_lifecycle_counts_match_the_x12(
    built: tuple[Path, ProjectConfig], gold: duckdb.DuckDBPyConnection
) -> None:
    root, _ = built
    x12 = read_x12(root / "claims")
    rows = gold.sql(
        "SELECT count(*), count(*) FILTER (WHERE denial_count > 0), count(*) FILTER (WHERE reversed_date IS NOT NULL), "
        "count(*) FILTER (WHERE current_state = 'reversed') FROM g.gold.rcm_claim_lifecycle"
    ).fetchall()
    known = set(x12.billed) | set(x12.paid)
    assert rows == [
        (len(known), len(x12.denied), len(x12.reversed), 0)
    ]  # every reversal is reissued
    assert x12.reversed, "the generator reverses ~2 % of paid claims"
