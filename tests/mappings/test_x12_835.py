"""X12 835 → FHIR R4: a golden remittance, the three balancing rules, bad values, the public
samples and the synthetic remittances against an independent reading of their text.

The golden input (`golden/x12_remit/835_remit.x12`, see SOURCE.md there) was written by hand
for these tests from the X221A1 segment layouts: a paid claim with a claim-level CAS, line
CAS (one with two triplets, one with a quantity), AMT*B6, LQ*HE and a statement period; a
denied claim (CLP02 = 4) known by name only with NM1*IL's member id, a MOA remark and a
service period; a reversal (CLP02 = 22) followed by the correction of the same CLP01; a PLB
with an L6 interest and a WO recovery. Its expected resources were worked out by hand from
the input and the silver contract (docs in `x12_835.py`). Ids and references are written as
source keys (`"key": "LHP01|PCN100"`, `"reference": "Patient/LHP01|M100"`), `meta` is checked
once (`test_ids_meta_and_patient_ids`), and balances as `[rule, subject, expected, actual]`.

FHIR validation uses `fhir.resources.R4B` (R4B is R4 for every resource mapped here;
fhir.resources 8 ships no R4 package), as in `test_hl7v2_adt.py`.
"""

from __future__ import annotations

import csv
import importlib
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from medlake.formats.x12 import TransactionSet, parse_x12
from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.x12 import X12Mapping, map_sets
from medlake.silver.mappings.x12_common import SET_TAG_SYSTEM, MappedX12, X12Context

GOLDEN = Path(__file__).parent / "golden" / "x12_remit"
CTX = X12Context("acme", "remit", "urn:acme:remit", "America/Chicago")


# -- helpers (the eligibility and enrollment tests use them too) ---------------------------------
def sets_of(text: str | bytes) -> list[TransactionSet]:
    data = text.encode() if isinstance(text, str) else text
    return list(parse_x12(data, name="test.x12", errors="ignore").transaction_sets())


def run(text: str | bytes) -> X12Mapping:
    return map_sets(list(enumerate(sets_of(text))), CTX)


def symbolic(resources: list[MappedX12]) -> list[dict[str, Any]]:
    """The resources without `id`/`meta`, with `key` and references written `Type/key`."""
    names = {f"{r.resource_type}/{r.id}": f"{r.resource_type}/{r.source_id}" for r in resources}
    out = []
    for r in resources:
        body = {k: v for k, v in r.resource.items() if k not in ("id", "meta", "resourceType")}
        out.append({"resourceType": r.resource_type, "key": r.source_id, **rename(body, names)})
    return out


def rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: (names.get(v, v) if k == "reference" else rename(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v, names) for v in value]
    return value


def validate(resources: list[MappedX12]) -> None:
    """Every resource parses as its FHIR R4(B) model."""
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    for r in resources:
        module = importlib.import_module(f"fhir.resources.R4B.{r.resource_type.lower()}")
        getattr(module, r.resource_type).model_validate(r.resource)


def check_golden(name: str) -> X12Mapping:
    """Map `golden/x12_remit/<name>.x12` and compare with `<name>.expected.json`."""
    out = run((GOLDEN / f"{name}.x12").read_bytes())
    expected = json.loads((GOLDEN / f"{name}.expected.json").read_text("utf-8"))
    got = symbolic(out.resources)
    assert [(r["resourceType"], r["key"]) for r in got] == [(r["resourceType"], r["key"]) for r in expected["resources"]]
    for mine, want in zip(got, expected["resources"], strict=True):
        assert mine == want, (want["resourceType"], want["key"])
    assert [[p.position, p.message] for p in out.problems] == expected["problems"]
    balances = [[b.rule, b.subject, b.expected, b.actual] for b in out.balances]
    assert balances == [[r, s, Decimal(e), Decimal(a)] for r, s, e, a in expected.get("balances", [])]
    assert not out.unmapped
    validate(out.resources)
    return out


def envelope(functional_id: str, guide: str, body: list[str], st01: str) -> str:
    """An interchange of one set around `body` (the segments after ST), SE01 counted."""
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240305*0900*^*00501*000000001*0*T*:~"
    segments = [f"ST*{st01}*0001*{guide}", *body]
    return "\n".join([
        isa, f"GS*{functional_id}*SENDER*RECEIVER*20240305*0900*1*X*{guide}~",
        *(s + "~" for s in segments), f"SE*{len(segments) + 1}*0001~", "GE*1*1~", "IEA*1*000000001~",
    ])  # fmt: skip


HEADER_835 = [
    "BPR*I*{bpr02}*C*ACH*CCP*01*071000013*DA*1234567890*1366049215**01*071000039*DA*9876543210*20240305",
    "TRN*1*EFT1*1366049215",
    "N1*PR*LAKESHORE HEALTH PLAN*XV*LHP01",
    "N1*PE*NORTHSIDE CLINIC*XX*1234567893",
    "LX*1",
]


def remit(claims: list[str], bpr02: str = "80", plb: str | None = None) -> str:
    body = [s.format(bpr02=bpr02) for s in HEADER_835] + claims + ([plb] if plb else [])
    return envelope("HP", "005010X221A1", body, "835")


# -- golden ---------------------------------------------------------------------------------------
def test_golden_remittance() -> None:
    check_golden("835_remit")


def test_ids_meta_and_patient_ids() -> None:
    out = run((GOLDEN / "835_remit.x12").read_bytes())
    by_key = {(r.resource_type, r.source_id): r for r in out.resources}
    for r in out.resources:
        assert r.id == silver_id("acme", "urn:acme:remit", r.resource_type, r.source_id)
        assert r.resource["id"] == r.id
        assert r.resource["meta"] == {
            "source": "urn:acme:remit",
            "tag": [
                {"system": SOURCE_TAG_SYSTEM, "code": "remit"},
                {"system": SET_TAG_SYSTEM, "code": "000000451/451/0001", "display": "835"},
            ],
        }
    patient = by_key[("Patient", "835|LHP01|M100")].id
    assert by_key[("ExplanationOfBenefit", "LHP01|PCN100")].patient_id == patient
    assert by_key[("Patient", "835|LHP01|M100")].patient_id == patient
    assert by_key[("PaymentReconciliation", "LHP01|EFT7001")].patient_id is None
    assert by_key[("Organization", "payer|LHP01")].patient_id is None


def test_reversal_and_correction_are_versions_of_one_eob() -> None:
    """CLP02 = 22 then CLP02 = 1 of the same CLP01: two versions of one id, in file order."""
    out = run((GOLDEN / "835_remit.x12").read_bytes())
    versions = [r for r in out.resources if r.source_id == "LHP01|PCN300"]
    assert len({r.id for r in versions}) == 1
    assert [(v.resource["status"], v.resource["extension"][0]["valueCode"], v.resource["identifier"][1]["value"]) for v in versions] == [
        ("cancelled", "22", "ICN300"),
        ("active", "1", "ICN301"),
    ]


# -- balancing --------------------------------------------------------------------------------------
PAID = ["CLP*A1*1*100*80*0*12*ICN1", "NM1*QC*1*DOE*JANE****MI*M1", "SVC*HC:99213*100*80**1"]

BALANCING = [
    pytest.param(
        [*PAID, "CAS*CO*45*20"], "80", None,
        [("line 1 of claim A1", "20", "20"), ("claim A1", "20", "20"), ("payment EFT1", "80", "80")],
        id="balanced",
    ),
    pytest.param(
        [PAID[0], "CAS*OA*23*5", *PAID[1:], "CAS*CO*45*20"], "80", None,
        [("line 1 of claim A1", "20", "20"), ("claim A1", "20", "25"), ("payment EFT1", "80", "80")],
        id="claim-level CAS too much",
    ),
    pytest.param(
        [PAID[0], "CAS*CO*45*5", *PAID[1:], "CAS*CO*45*15"], "80", None,
        [("line 1 of claim A1", "20", "15"), ("claim A1", "20", "20"), ("payment EFT1", "80", "80")],
        id="line CAS short, claim balances",
    ),
    pytest.param(
        [*PAID, "CAS*CO*45*12.5**253*1.5", "CAS*PR*2*6"], "80", None,
        [("line 1 of claim A1", "20", "20.0"), ("claim A1", "20", "20.0"), ("payment EFT1", "80", "80")],
        id="several triplets",
    ),
    pytest.param(
        [*PAID, "CAS*CO*45*20"], "75", "PLB*1234567893*20241231*WO:ICN9*5",
        [("line 1 of claim A1", "20", "20"), ("claim A1", "20", "20"), ("payment EFT1", "75", "75")],
        id="PLB recovery",
    ),
    pytest.param(
        [*PAID, "CAS*CO*45*20"], "82.5", "PLB*1234567893*20241231*L6:A1*-2.5",
        [("line 1 of claim A1", "20", "20"), ("claim A1", "20", "20"), ("payment EFT1", "82.5", "82.5")],
        id="PLB interest",
    ),
    pytest.param(
        [*PAID, "CAS*CO*45*20"], "80", "PLB*1234567893*20241231*WO:ICN9*5",
        [("line 1 of claim A1", "20", "20"), ("claim A1", "20", "20"), ("payment EFT1", "80", "75")],
        id="BPR02 ignores the PLB",
    ),
    pytest.param(
        ["CLP*A1*22*-100*-80*0*12*ICN1", "NM1*QC*1*DOE*JANE****MI*M1", "SVC*HC:99213*-100*-80**1", "CAS*CO*45*-20",
         "CLP*A1*1*100*70*0*12*ICN2", "NM1*QC*1*DOE*JANE****MI*M1", "SVC*HC:99213*100*70**1", "CAS*CO*45*30"],
        "-10", None,
        [("line 1 of claim A1", "-20", "-20"), ("claim A1", "-20", "-20"),
         ("line 1 of claim A1 #2", "30", "30"), ("claim A1 #2", "30", "30"), ("payment EFT1", "-10", "-10")],
        id="reversal and correction",
    ),
    pytest.param(
        ["CLP*A1*4*100*0*0*12*ICN1", "NM1*QC*1*DOE*JANE****MI*M1", "CAS*CO*50*100"], "0", None,
        [("claim A1", "100", "100"), ("payment EFT1", "0", "0")],
        id="denied without lines",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("claims", "bpr02", "plb", "expected"), BALANCING)
def test_balancing(claims: list[str], bpr02: str, plb: str | None, expected: list[tuple[str, str, str]]) -> None:
    out = run(remit(claims, bpr02, plb))
    rules = {"line": "SVC02 - SVC03 = sum(line CAS)", "claim": "CLP03 - CLP04 = sum(CAS)", "payment": "BPR02 = sum(CLP04) - sum(PLB)"}
    assert [(b.rule, b.subject, b.expected, b.actual) for b in out.balances] == [
        (rules[subject.split()[0]], subject, Decimal(e), Decimal(a)) for subject, e, a in expected
    ]
    assert [b.balanced for b in out.balances] == [Decimal(e) == Decimal(a) for _, e, a in expected]
    assert out.problems == []


# -- bad values -------------------------------------------------------------------------------------
BAD = [
    pytest.param("CLP*A1*1*100*80*0*12*ICN1", "CLP*A1*1*100*8O*0*12*ICN1",
                 [("set 0001, loop 2100, CLP04", "`8O` is not an amount")], id="CLP04"),
    pytest.param("CLP*A1*1*100*80*0*12*ICN1", "CLP*A1*9*100*80*0*12*ICN1",
                 [("set 0001, loop 2100, CLP02", "`9` is not a claim status code: expected one of 1, 2, 3, 4, 19, 20, 21, 22, 23, 25")],
                 id="CLP02"),
    pytest.param("CLP*A1*1*100*80*0*12*ICN1", "CLP**1*100*80*0*12*ICN1",
                 [("set 0001, loop 2100, CLP01", "CLP01 (patient control number) is empty: the claim is not mapped")],
                 id="CLP01 empty"),
    pytest.param("CAS*CO*45*20", "CAS*CR*45*20",
                 [("set 0001, loop 2110, CAS01", "`CR` is not a claim adjustment group code: expected CO, OA, PI or PR (CR was removed in 5010)")],
                 id="CAS01 CR"),
    pytest.param("CAS*CO*45*20", "CAS*CO*45*2O",
                 [("set 0001, loop 2110, CAS03", "`2O` is not an amount")], id="CAS03"),
    pytest.param("CAS*CO*45*20", "CAS*CO*45",
                 [("set 0001, loop 2110, CAS03", "reason `45` has no amount: the adjustment is not mapped")],
                 id="CAS03 missing"),
    pytest.param("CAS*CO*45*20", "CAS*CO*45*20*one",
                 [("set 0001, loop 2110, CAS04", "`one` is not a number")], id="CAS04"),
    pytest.param("DTM*472*20240210", "DTM*472*20241310",
                 [("set 0001, loop 2110, DTM02", "`20241310` is not a valid date")], id="DTM*472"),
    pytest.param("SVC*HC:99213*100*80**1", "SVC*HC:99213*100*80**x",
                 [("set 0001, loop 2110, SVC05", "`x` is not a number")], id="SVC05"),
    pytest.param("SVC*HC:99213*100*80**1", "SVC*HC*100*80**1",
                 [("set 0001, loop 2110, SVC01-2", "SVC01 has no procedure code and SVC04 no revenue code: the item's productOrService says so")],
                 id="SVC01 empty"),
    pytest.param("NM1*QC*1*DOE*JANE****MI*M1", "NM1*IL*1*DOE*JANE****MI*M1",
                 [("set 0001, loop 2100, NM1", "NM1*QC (patient name) is missing: the claim's Patient has no name")],
                 id="NM1*QC missing"),
    pytest.param("9876543210*20240305~", "9876543210*2024~",
                 [("set 0001, BPR16", "`2024` is not a CCYYMMDD date")], id="BPR16"),
    pytest.param("TRN*1*EFT1*1366049215", "TRN*1**1366049215",
                 [("set 0001, TRN02", "TRN02 (check or EFT trace number) is empty: the payment is keyed by the set control number")],
                 id="TRN02 empty"),
    pytest.param("PLB*1234567893*20241231*WO:ICN9*0", "PLB*1234567893*20241231*ZZ:ICN9*0",
                 [("set 0001, PLB03-1", "`ZZ` is not a provider adjustment reason code (X12 element 426: L6 interest, WO overpayment recovery, FB forwarding balance …)")],
                 id="PLB03-1"),
    pytest.param("PLB*1234567893*20241231*WO:ICN9*0", "PLB*1234567893*20241231*WO:ICN9*five",
                 [("set 0001, PLB04", "`five` is not an amount")], id="PLB04"),
]  # fmt: skip

GOOD = ["CLP*A1*1*100*80*0*12*ICN1", "NM1*QC*1*DOE*JANE****MI*M1", "SVC*HC:99213*100*80**1", "DTM*472*20240210", "CAS*CO*45*20"]


@pytest.mark.parametrize(("good", "bad", "problems"), BAD)
def test_bad_values_are_problems(good: str, bad: str, problems: list[tuple[str, str]]) -> None:
    text = remit(GOOD, "80", "PLB*1234567893*20241231*WO:ICN9*0")
    assert run(text).problems == []
    assert text.count(good) == 1
    out = run(text.replace(good, bad))
    assert [(p.position, p.message) for p in out.problems] == problems
    validate(out.resources)


# -- the public samples ---------------------------------------------------------------------------------
def sample_sets(*families: str) -> list[tuple[str, int, TransactionSet]]:
    """(file, index, set) of every 5010 set of `families` in ../shared/data/x12-samples."""
    from shared_data import shared_path

    root = shared_path("data", "x12-samples")
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md")):
        parsed = parse_x12(path.read_bytes(), name=path.name, errors="ignore")
        for i, ts in enumerate(parsed.transaction_sets()):
            if ts.family in families and ts.version == "5010":
                out.append((str(path.relative_to(root)), i, ts))
    return out


@pytest.mark.shared
def test_every_835_sample_maps() -> None:
    found = sample_sets("835")
    assert len(found) >= 6
    for name, i, ts in found:
        out = map_sets([(i, ts)], CTX)
        validate(out.resources)
        clps = [s for s in ts.raw_segments if s.startswith("CLP")]
        eobs = [r for r in out.resources if r.resource_type == "ExplanationOfBenefit"]
        assert len(eobs) == len(clps), name
        assert sum(r.resource_type == "PaymentReconciliation" for r in out.resources) == 1, name


# -- the synthetic remittances -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `medlake synth -n 200` writes (its default seed, 42)."""
    from medlake.synth.generate import generate

    out = tmp_path_factory.mktemp("x12r")
    generate(out, 200, seed=42)
    return out


@pytest.fixture(scope="module")
def remits(synthetic: Path) -> dict[str, tuple[str, X12Mapping]]:
    """835 file (relative name) → (its text, its mapping)."""
    out = {}
    for path in sorted((synthetic / "claims").glob("835_*.x12")):
        text = path.read_text("utf-8")
        out[f"claims/{path.name}"] = (text, run(text))
    assert out
    return out


def plain_segments(text: str, sid: str) -> list[list[str]]:
    """The elements of every `sid` segment of a synthetic file: `~` terminators, `*` elements."""
    return [s.strip().split("*") for s in text.split("~") if s.strip().startswith(sid + "*")]


def test_synthetic_every_clp_maps(synthetic: Path, remits: dict[str, tuple[str, X12Mapping]]) -> None:
    """One EOB version per CLP, named by its CLP01 and CLP07 — and the CLP07s are the truth's."""
    with (synthetic / "truth" / "records.csv").open(newline="") as fh:
        truth = Counter((r["file"], r["record_key"]) for r in csv.DictReader(fh) if r["kind"] == "835")
    mapped: Counter[tuple[str, str]] = Counter()
    for name, (text, out) in remits.items():
        clps = plain_segments(text, "CLP")
        eobs = [r.resource for r in out.resources if r.resource_type == "ExplanationOfBenefit"]
        assert [(e["identifier"][0]["value"], e["identifier"][1]["value"]) for e in eobs] == [(c[1], c[7]) for c in clps]
        for e in eobs:
            icn = e["identifier"][1]["value"]
            mapped[(name, f"{icn}/22" if e["status"] == "cancelled" else icn)] += 1
        assert out.problems == [], name
    assert mapped == truth


def test_synthetic_only_the_injected_claim_is_unbalanced(synthetic: Path, remits: dict[str, tuple[str, X12Mapping]]) -> None:
    with (synthetic / "truth" / "defects.csv").open(newline="") as fh:
        injected = [r for r in csv.DictReader(fh) if r["defect"] == "x12_835_unbalanced"]
    assert len(injected) == 1
    pcn = injected[0]["location"].split()[1]
    failing = [(name, b.rule, b.subject) for name, (_, out) in remits.items() for b in out.balances if not b.balanced]
    assert failing == [(injected[0]["file"], "CLP03 - CLP04 = sum(CAS)", f"claim {pcn}")]
    payments = [b for _, out in remits.values() for b in out.balances if b.rule.startswith("BPR02")]
    assert payments and all(b.balanced for b in payments)
    assert sum(len(plain_segments(text, "BPR")) for text, _ in remits.values()) == len(payments)


def test_synthetic_benefit_totals_match_the_text(remits: dict[str, tuple[str, X12Mapping]]) -> None:
    """Σ EOB `benefit` totals = Σ CLP04 and Σ PaymentReconciliation amounts = Σ BPR02, both read
    from the files with a plain split; the PLB details are the PLB amounts."""
    for name, (text, out) in remits.items():
        benefit = sum(
            (Decimal(str(t["amount"]["value"])) for r in out.resources if r.resource_type == "ExplanationOfBenefit"
             for t in r.resource["total"] if t["category"]["coding"][0]["code"] == "benefit"),
            Decimal(0),
        )  # fmt: skip
        assert benefit == sum((Decimal(c[4]) for c in plain_segments(text, "CLP")), Decimal(0)), name
        paid = sum(
            (Decimal(str(r.resource["paymentAmount"]["value"])) for r in out.resources if r.resource_type == "PaymentReconciliation"),
            Decimal(0),
        )
        assert paid == sum((Decimal(b[2]) for b in plain_segments(text, "BPR")), Decimal(0)), name
        plb = [
            Decimal(str(d["amount"]["value"])) for r in out.resources if r.resource_type == "PaymentReconciliation"
            for d in r.resource["detail"] if "plb-adjustment-reason" in d["type"]["coding"][0]["system"]
        ]  # fmt: skip
        assert plb == [Decimal(p[4]) for p in plain_segments(text, "PLB")], name


def test_synthetic_resources_validate(remits: dict[str, tuple[str, X12Mapping]]) -> None:
    _, out = next(iter(remits.values()))
    validate(out.resources)


def test_a_mapping_bug_quarantines_the_set_and_the_batch_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A set whose mapping raises becomes one problem; the other sets still map."""
    from medlake.silver.mappings import x12 as dispatcher

    sets = list(parse_x12((GOLDEN / "835_remit.x12").read_bytes()).transaction_sets())
    real = dispatcher.family
    calls: list[str] = []

    def flaky(name: str):  # type: ignore[no-untyped-def]
        fn = real(name)
        if fn is None or calls:
            return fn

        def broken(m: object) -> None:
            calls.append("x")
            raise ValueError("boom")

        return broken

    monkeypatch.setattr(dispatcher, "family", flaky)
    out = map_sets([(0, sets[0]), (1, sets[0])], CTX)
    assert [(p.record_index, p.position, p.message) for p in out.problems] == [
        (0, f"set {sets[0].control_number}", "the 835 mapping failed: ValueError: boom")
    ]
    assert out.resources and {r.record_index for r in out.resources} == {1}
