"""X12 837P / 837I / 837D → FHIR R4: golden claims, claim versions, bad values, real and synthetic feeds.

Golden inputs (`golden/x12/x12_837p.x12`, `x12_837i.x12`, `x12_837d.x12`) were written by hand
for these tests from the 005010X222A1, X223A2 and X224A2 implementation guides:

- 837P: a billing organization with a pay-to address (2010AB), a subscriber who is the
  patient, and a claim with an auto accident (CLM11, DTP*439), a prior authorization (REF*G1),
  three diagnoses, referring / rendering (with taxonomy) / service facility loops, a second
  payer (2320/2330A/2330B) and two lines (modifiers, pointers, minutes, a line-level rendering
  provider, a date range); then a dependent (2000C) with a replacement claim (CLM05-3 = 7,
  REF*F8) whose CLM02 does not balance;
- 837I: an inpatient claim with a pay-to plan (2010AC), statement dates, CL1, every HI kind
  the mapping reads (ABK/ABJ/APR/ABN/ABF with present-on-admission, BBR/BBQ, BI/BH/BE/BG,
  and a DRG it leaves out), attending / operating / other operating / facility / referring
  loops, a room-and-board line with days and a professional-component line;
- 837D: an individual dentist who bills and renders, missing teeth (DN2), a line on a tooth
  with surfaces (TOO) and a line on an area of the mouth (SV304) in another place of service.

The expected resources (`*.expected.json`) were worked out by hand from the inputs, the guides
and the FHIR R4 value sets; ids are written `Type[source key]` and references
`Type/Type[source key]` (the test swaps the silver ids for these); `meta` is checked once, in
`test_meta_and_patient_ids`. FHIR validation uses `fhir.resources.R4B` (fhir.resources 8 ships
no R4 package; R4B is R4 for every element mapped here).
"""

from __future__ import annotations

import csv
import importlib
import json
import random
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from medlake.formats.x12 import TransactionSet, parse_x12
from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.x12 import X12Mapping, map_sets
from medlake.silver.mappings.x12_common import SET_TAG_SYSTEM, X12Context

GOLDEN = Path(__file__).parent / "golden" / "x12"
CTX = X12Context("acme", "claims", "urn:acme:claims", "America/Chicago")


# -- helpers ---------------------------------------------------------------------------------------
def sets_of(data: str | bytes, name: str = "test.x12") -> list[tuple[int, TransactionSet]]:
    return list(enumerate(parse_x12(data, name=name).transaction_sets()))


def run(data: str | bytes) -> X12Mapping:
    return map_sets(sets_of(data), CTX)


def readable(out: X12Mapping) -> list[dict[str, Any]]:
    """The resources without `meta`, silver ids replaced by `Type[source key]`."""
    text = json.dumps([{k: v for k, v in r.resource.items() if k != "meta"} for r in out.resources])
    for r in out.resources:
        text = text.replace(r.id, f"{r.resource_type}[{r.source_id}]")
    found: list[dict[str, Any]] = json.loads(text)
    return found


def by_type(out: X12Mapping, rtype: str) -> list[dict[str, Any]]:
    return [r.resource for r in out.resources if r.resource_type == rtype]


def problems(out: X12Mapping) -> list[str]:
    return [f"{p.position}: {p.message}" for p in out.problems]


def validate(out: X12Mapping) -> None:
    """Every resource parses as its FHIR R4(B) model."""
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    for r in out.resources:
        module = importlib.import_module(f"fhir.resources.R4B.{r.resource_type.lower()}")
        getattr(module, r.resource_type).model_validate(r.resource)


def check_golden(name: str) -> X12Mapping:
    out = run((GOLDEN / f"{name}.x12").read_bytes())
    expected = json.loads((GOLDEN / f"{name}.expected.json").read_text("utf-8"))
    got = {r["id"]: r for r in readable(out)}
    want = {r["id"]: r for r in expected["resources"]}
    assert sorted(got) == sorted(want)
    for rid, resource in want.items():
        assert got[rid] == resource, rid
    assert [[p.position, p.message] for p in out.problems] == expected["problems"]
    balances = [[b.rule, b.subject, str(b.expected), str(b.actual)] for b in out.balances]
    assert balances == expected["balances"]
    validate(out)
    return out


# -- golden claims ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x12_837p", "x12_837i", "x12_837d"])
def test_golden(name: str) -> None:
    check_golden(name)


def test_meta_and_patient_ids() -> None:
    out = run((GOLDEN / "x12_837p.x12").read_bytes())
    set_tag = {"system": SET_TAG_SYSTEM, "code": "000000101/101/0001", "display": "837P"}
    patients = {r.source_id: r.id for r in out.resources if r.resource_type == "Patient"}
    for r in out.resources:
        assert r.id == silver_id("acme", "urn:acme:claims", r.resource_type, r.source_id)
        assert r.resource["meta"] == {"source": "urn:acme:claims", "tag": [{"system": SOURCE_TAG_SYSTEM, "code": "claims"}, set_tag]}
        if r.resource_type == "Patient":
            assert r.patient_id == r.id
        elif r.resource_type in ("Claim", "Coverage"):
            beneficiary = r.resource.get("patient") or r.resource["beneficiary"]
            assert f"Patient/{r.patient_id}" == beneficiary["reference"]
            assert r.patient_id in patients.values()
        else:
            assert r.patient_id is None


def test_unmapped_families_and_4010_are_counted_not_mapped() -> None:
    text = (GOLDEN / "x12_837p.x12").read_text("utf-8").replace("005010X222A1", "004010X098A1")
    out = run(text)
    assert out.resources == [] and out.unmapped == {"4010 837P": 1}


# -- versions: original, replacement, void ---------------------------------------------------------
BASE = """ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*CLEARHOUSE     *240315*0930*^*00501*{isa}*0*T*:~
GS*HC*CLINIC01*CLEARHOUSE*20240315*0930*1*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*B1*20240315*0930*CH~
HL*1**20*1~
NM1*85*2*LAKESIDE FAMILY CLINIC*****XX*1234567893~
HL*2*1*22*0~
SBR*P*18*******CI~
NM1*IL*1*RIVERA*ANA****MI*XYZ123456~
DMG*D8*19800214*F~
NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~
{claim}SE*{count}*0001~
GE*1*1~
IEA*1*{isa}~
"""
CLAIM = """CLM*{pcn}*{charge}***11:B:{freq}*Y*A*Y*Y~
{ref}HI*ABK:J069*ABF:R51~
LX*1~
SV1*HC:99213*{charge}*UN*1***1:2~
DTP*472*D8*20240310~
"""


def claim(pcn: str = "C1", charge: str = "100", freq: str = "1", ref: str = "") -> str:
    return CLAIM.format(pcn=pcn, charge=charge, freq=freq, ref=ref)


def interchange(*claims: str, isa: str = "000000001") -> str:
    body = "".join(claims)
    count = 10 + body.count("~")  # ST, BHT, HL, NM1*85, HL, SBR, NM1*IL, DMG, NM1*PR, SE
    return BASE.format(isa=isa, claim=body, count=count)


def test_replacement_and_void_are_versions_of_one_claim() -> None:
    original = run(interchange(claim(charge="100"), isa="000000001"))
    replacement = run(interchange(claim(charge="120", freq="7", ref="REF*F8*ICN555~\n"), isa="000000002"))
    void = run(interchange(claim(charge="120", freq="8", ref="REF*F8*ICN556~\n"), isa="000000003"))
    claims = [by_type(out, "Claim") for out in (original, replacement, void)]
    assert [len(c) for c in claims] == [1, 1, 1]
    first, second, third = (c[0] for c in claims)
    assert first["id"] == second["id"] == third["id"] == silver_id("acme", "urn:acme:claims", "Claim", "C1")
    assert [c["status"] for c in (first, second, third)] == ["active", "active", "cancelled"]
    assert [c["extension"][0]["valueCode"] for c in (first, second, third)] == ["1", "7", "8"]
    assert [c["total"]["value"] for c in (first, second, third)] == [100, 120, 120]
    payer_numbers = [[i["value"] for i in c["identifier"][1:]] for c in (first, second, third)]
    assert payer_numbers == [[], ["ICN555"], ["ICN556"]]
    assert all(out.problems == [] for out in (original, replacement, void))
    for out in (original, replacement, void):
        validate(out)


def test_a_replacement_in_the_same_set_follows_the_original_as_its_next_version() -> None:
    out = run(interchange(claim(charge="100"), claim(charge="150", freq="7")))
    original, replacement = by_type(out, "Claim")
    assert original["id"] == replacement["id"]
    assert [(c["total"]["value"], c["extension"][0]["valueCode"]) for c in (original, replacement)] == [(100, "1"), (150, "7")]
    assert [(b.subject, b.balanced) for b in out.balances] == [("claim C1", True), ("claim C1", True)]


# -- bad values: the problem and its exact text ----------------------------------------------------
QUALIFIERS = "ABK, BK, ABF, BF, ABJ, BJ, APR, PR, ABN, BN, BBR, BR, BBQ, BQ, BG, BH, BI, BE, BO, BP, DR, TC"
BAD = [
    ("CLM*C1*100***", "CLM*C1*1O0***", "set 0001, loop 2300, CLM02: `1O0` is not an amount"),
    ("11:B:1", "11:B:5", "set 0001, loop 2300, CLM05-3: `5` is not a claim frequency code (1 original, 7 replacement, 8 void)"),
    ("11:B:1", "11:B", "set 0001, loop 2300, CLM05-3: CLM05-3 (claim frequency) is empty; the claim is read as an original (1)"),
    ("CLM*C1*", "CLM**", "set 0001, loop 2300, CLM01: CLM01 (patient control number) is empty: the claim has no key and is not mapped"),
    ("DMG*D8*19800214*F", "DMG*D8*19801332*F", "set 0001, loop 2010BA, DMG02: `19801332` is not a valid date"),
    ("DMG*D8*19800214*F", "DMG*D8*1980-02-14*F", "set 0001, loop 2010BA, DMG02: `1980-02-14` is not a CCYYMMDD date"),
    ("DMG*D8*19800214*F", "DMG*D8*19800214*X", "set 0001, loop 2010BA, DMG03: `X` is not a gender code (F, M, U)"),
    ("SV1*HC:99213*100*", "SV1*HC:99213*ten*", "set 0001, loop 2400, SV102: `ten` is not an amount"),
    ("*UN*1***", "*UN*1x***", "set 0001, loop 2400, SV104: `1x` is not a number"),
    ("***1:2~", "***1:4~", "set 0001, loop 2400, SV107-2: diagnosis pointer `4` names no diagnosis of the claim (it has 2 in HI ABK/ABF)"),
    ("SV1*HC:99213*", "SV1*HC*", "set 0001, loop 2400, SV101-2: the procedure code is empty"),
    ("DTP*472*D8*20240310", "DTP*472*D8*2024031", "set 0001, loop 2400, DTP03: `2024031` is not a CCYYMMDD date"),
    ("LX*1", "LX*A", "set 0001, loop 2400, LX01: `A` is not a line number; the line's position (1) is used"),
    ("ABF:R51~", "ABF:R51*XYZ:R52~", f"set 0001, loop 2300, HI03-1: `XYZ` is not a code list qualifier of an 837 HI ({QUALIFIERS})"),
    ("BHT*0019*00*B1*20240315", "BHT*0019*00*B1*", "set 0001, loop ST, BHT04: BHT04 (the set's creation date) is empty: the claims have no `created` date"),
    ("BHT*0019*00*B1*20240315", "BHT*0019*00*B1*20241315", "set 0001, loop ST, BHT04: `20241315` is not a valid date"),
    ("NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~\n", "", "set 0001, loop 2000B, NM1: loop 2010BB (payer name) is missing: the claims of this subscriber are not mapped"),
    ("NM1*85*2*LAKESIDE FAMILY CLINIC*****XX*1234567893~\n", "", "set 0001, loop 2000A, NM1: loop 2010AA (billing provider name) is missing: the claims of this billing provider are not mapped"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[m.split(": ", 1)[0].split(", ", 1)[1] for _, _, m in BAD])
def test_bad_values_are_problems_with_exact_text(old: str, new: str, message: str) -> None:
    good = interchange(claim())
    assert good.count(old) == 1, old
    out = run(good.replace(old, new))
    assert problems(out) == [message]


def test_bad_tooth_surface_and_occurrence_date() -> None:
    dental = (GOLDEN / "x12_837d.x12").read_text("utf-8").replace("TOO*JP*8*M:F", "TOO*JP*8*M:X")
    assert problems(run(dental)) == ["set 0001, loop 2400, TOO03-2: `X` is not a tooth surface code (B, D, F, I, L, M, O)"]
    institutional = (GOLDEN / "x12_837i.x12").read_text("utf-8").replace("HI*BH:11:D8:20240319", "HI*BH:11:D8:20240230")
    assert problems(run(institutional)) == ["set 0001, loop 2300, HI01-4: `20240230` is not a valid date"]


def test_a_bad_amount_leaves_the_claim_without_total_and_unbalanced_lines_are_recorded() -> None:
    out = run(interchange(claim().replace("CLM*C1*100", "CLM*C1*abc")))
    (only,) = by_type(out, "Claim")
    assert "total" not in only and out.balances == []
    out = run(interchange(claim().replace("CLM*C1*100", "CLM*C1*90")))
    assert [(b.expected, b.actual, b.balanced) for b in out.balances] == [(Decimal(90), Decimal(100), False)]


# -- the public 5010 837 samples -------------------------------------------------------------------
SAMPLES = ("data", "x12-samples")


@cache
def _sample_names() -> list[str]:
    from shared_data import SHARED

    index = SHARED.joinpath(*SAMPLES, "INDEX.tsv")
    if not index.exists():
        return ["(../shared absent)"]
    with index.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["file"] for r in rows if r["transaction_sets(ST01 + ST03/GS08)"].startswith("837") and "00501" in r["transaction_sets(ST01 + ST03/GS08)"]]


@pytest.mark.shared
@pytest.mark.parametrize("name", _sample_names())
def test_every_5010_837_sample_maps_and_validates(name: str) -> None:
    from shared_data import shared_path

    data = shared_path(*SAMPLES, name).read_bytes()
    sets = sets_of(data, name)
    out = map_sets(sets, CTX)
    claims = {c["identifier"][0]["value"] for c in by_type(out, "Claim")}
    expected = {ts.segment(i).get(1) for _, ts in sets for i in range(len(ts)) if ts.segment_id(i) == "CLM"}
    lost = {p.position for p in out.problems if "not mapped" in p.message}
    assert claims == expected or lost, "claims are missing without a problem saying why"
    validate(out)


# -- the synthetic claims feed ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from medlake.synth.generate import generate

    root = tmp_path_factory.mktemp("synth_837")
    generate(root, 200, seed=5)
    return root


def _plain_split(text: str) -> tuple[list[str], Decimal, Decimal]:
    """CLM01s, Σ CLM02 and Σ line charges (SV102 / SV203), by splitting the text by hand."""
    ids, total, lines = [], Decimal(0), Decimal(0)
    for seg in text.replace("\n", "").split("~"):
        els = seg.split("*")
        if els[0] == "CLM":
            ids.append(els[1])
            total += Decimal(els[2])
        elif els[0] == "SV1":
            lines += Decimal(els[2])
        elif els[0] == "SV2":
            lines += Decimal(els[3])
    return ids, total, lines


def test_synthetic_claims_all_map_and_totals_match_an_independent_sum(synthetic: Path) -> None:
    files = sorted((synthetic / "claims").glob("837*.x12"))
    assert {f.name[:4] for f in files} == {"837p", "837i"}
    with (synthetic / "truth" / "records.csv").open(newline="") as fh:
        truth = {r["record_key"] for r in csv.DictReader(fh) if r["kind"] in ("837P", "837I")}
    mapped: list[str] = []
    total = clm02 = lines = Decimal(0)
    for path in files:
        text = path.read_text("utf-8")
        out = run(text)
        ids, file_total, file_lines = _plain_split(text)
        found = by_type(out, "Claim")
        assert sorted(c["identifier"][0]["value"] for c in found) == sorted(ids), path.name
        assert out.problems == [], path.name
        assert all(b.balanced for b in out.balances) and len(out.balances) == len(ids)
        mapped += ids
        total += sum((Decimal(str(c["total"]["value"])) for c in found), Decimal(0))
        clm02 += file_total
        lines += file_lines
        validate_some(out, per_type=3)
    assert len(mapped) == len(set(mapped)) == len(truth) > 100
    assert set(mapped) == truth
    assert total == clm02 == lines


def validate_some(out: X12Mapping, per_type: int) -> None:
    seen: dict[str, int] = {}
    sample = X12Mapping()
    for r in out.resources:
        seen[r.resource_type] = seen.get(r.resource_type, 0) + 1
        if seen[r.resource_type] <= per_type:
            sample.resources.append(r)
    validate(sample)


# -- never an exception: damaged copies of the golden inputs -----------------------------------------
JUNK = ["", "*", ":", "X", "-1", "1e999", "NaN", "abc:def", "20241340", "RD8", "99999999-1", "::::::", "ABK", "HC:", "7", "8", "18", "77"]


def test_damaged_claims_give_problems_never_exceptions() -> None:
    """Elements replaced by junk, segments cut short, repeated or dropped (seeded, 600 cases):
    the mapping reports what it cannot read and never raises."""
    rng = random.Random(837)
    texts = [(GOLDEN / f"{name}.x12").read_text("utf-8") for name in ("x12_837p", "x12_837i", "x12_837d")]
    for _ in range(600):
        segs = rng.choice(texts).split("~")
        i = rng.randrange(3, len(segs) - 4)
        els = segs[i].split("*")
        roll = rng.random()
        if roll < 0.5 and len(els) > 1:
            els[rng.randrange(1, len(els))] = rng.choice(JUNK)
            segs[i] = "*".join(els)
        elif roll < 0.7:
            segs[i] = "*".join(els[: rng.randrange(1, len(els) + 1)])
        elif roll < 0.85:
            segs.insert(i, rng.choice(segs[3:-4]))
        else:
            del segs[i]
        run("~".join(segs))
