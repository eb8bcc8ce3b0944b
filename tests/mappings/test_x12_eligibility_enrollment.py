"""X12 834 / 270 / 271 / 276 / 277 → FHIR R4: golden sets, code tables, bad values and every
public 5010 sample of these families.

Golden inputs (`golden/x12_remit/*.x12`, see SOURCE.md there) were written by hand for these
tests from the X220A1, X279A1 and X212 segment layouts: an 834 with a subscriber (two
coverages: a health plan added, a dental plan cancelled), a child with an id of their own and
a spouse sent without one; a 270 for a subscriber and a dependent; the 271 answering it
(seven EB benefits, a dependent rejected by AAA); a 277 with a paid claim and its lines, a
dependent's denied institutional claim and a rejected claim keyed by TRN02. Expected files
were worked out by hand; the form is the one `test_x12_835.py` describes.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_x12_835 import CTX, GOLDEN, check_golden, envelope, run, sample_sets, sets_of, validate

from medlake.silver.mappings import x12_276
from medlake.silver.mappings.x12_common import SetMapper


# -- golden -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["834_enrollment", "270_inquiry", "271_benefits", "277_status"])
def test_golden(name: str) -> None:
    check_golden(name)


def test_patient_ids_of_coverages_and_responses() -> None:
    for name, rtype, field in (
        ("834_enrollment", "Coverage", "beneficiary"),
        ("271_benefits", "CoverageEligibilityResponse", "patient"),
        ("277_status", "ClaimResponse", "patient"),
    ):
        out = run((GOLDEN / f"{name}.x12").read_bytes())
        found = [r for r in out.resources if r.resource_type == rtype]
        assert found
        for r in found:
            assert r.patient_id is not None
            assert r.resource[field]["reference"] == f"Patient/{r.patient_id}"
        assert all(r.patient_id is None for r in out.resources if r.resource_type == "Organization")


# -- 834 ----------------------------------------------------------------------------------------
def enrollment(member: list[str]) -> str:
    return envelope("BE", "005010X220A1", [
        "BGN*00*ENR1*20240301*1000****2", "N1*P5*ACME WIDGETS*FI*361234567",
        "N1*IN*LAKESHORE HEALTH PLAN*XV*LHP01", *member,
    ], "834")  # fmt: skip


MEMBER = ["INS*Y*18*{ins03}*28*A***FT", "REF*0F*S1", "NM1*IL*1*RIVERA*ANA****34*123456789", "DMG*D8*19850412*F"]


@pytest.mark.parametrize(("ins03", "hd01", "status"), [
    ("021", "021", "active"), ("001", "001", "active"), ("025", "025", "active"), ("030", "030", "active"),
    ("024", "024", "cancelled"), ("001", "024", "cancelled"), ("024", "", "cancelled"), ("021", "", "active"),
])  # fmt: skip
def test_834_coverage_status_from_maintenance_codes(ins03: str, hd01: str, status: str) -> None:
    member = [s.format(ins03=ins03) for s in MEMBER] + [f"HD*{hd01}**HLT", "DTP*348*D8*20240301"]
    out = run(enrollment(member))
    coverage = next(r.resource for r in out.resources if r.resource_type == "Coverage")
    assert coverage["status"] == status
    assert coverage["extension"][0] == {"url": "https://medlake.dev/fhir/StructureDefinition/x12-maintenance-type", "valueCode": hd01 or ins03}
    assert out.problems == []


BAD_834 = [
    pytest.param("HD*021**HLT", "HD*999**HLT",
                 [("set 0001, loop 2300, HD01", "`999` is not a maintenance type code: expected 001, 002, 021, 024, 025, 026, 030 or 032")],
                 id="HD01"),
    pytest.param("DMG*D8*19850412*F", "DMG*D8*19850412*X",
                 [("set 0001, loop 2100A, DMG03", "`X` is not a gender code: expected F, M or U")], id="DMG03"),
    pytest.param("DMG*D8*19850412*F", "DMG*D8*19851332*F",
                 [("set 0001, loop 2100A, DMG02", "`19851332` is not a valid date")], id="DMG02"),
    pytest.param("DMG*D8*19850412*F", "DMG*D8*19850412*F*Q",
                 [("set 0001, loop 2100A, DMG04", "`Q` is not a marital status code: expected B, D, I, M, R, S, U, W or X")],
                 id="DMG04"),
    pytest.param("DTP*348*D8*20240301", "DTP*348*D8*2024-03-01",
                 [("set 0001, loop 2300, DTP03", "`2024-03-01` is not a CCYYMMDD date")], id="DTP*348"),
    pytest.param("INS*Y*18*021*28*A***FT", "INS*Y*18*021*28*A***FT***D8*2024023",
                 [("set 0001, loop 2000, INS12", "`2024023` is not a CCYYMMDD date")], id="INS12"),
    pytest.param("N1*IN*LAKESHORE HEALTH PLAN*XV*LHP01", "N1*IN",
                 [("set 0001, loop 1000B, N104", "N1*IN (insurer) is missing or names no one: the Coverages have no payor")],
                 id="N1*IN empty"),
    pytest.param("NM1*IL*1*RIVERA*ANA****34*123456789", "PER*IP**HP*3125550101",
                 [("set 0001, loop 2000, NM1", "the member has no NM1*IL (2100A): no Patient or Coverage is made")],
                 id="no 2100A"),
]  # fmt: skip


@pytest.mark.parametrize(("good", "bad", "problems"), BAD_834)
def test_834_bad_values_are_problems(good: str, bad: str, problems: list[tuple[str, str]]) -> None:
    text = enrollment([s.format(ins03="021") for s in MEMBER] + ["HD*021**HLT", "DTP*348*D8*20240301"])
    assert run(text).problems == []
    assert text.count(good) == 1
    out = run(text.replace(good, bad))
    assert [(p.position, p.message) for p in out.problems] == problems
    validate(out.resources)


def test_834_death_date() -> None:
    member = [MEMBER[0].format(ins03="001") + "***D8*20240220", *MEMBER[1:], "HD*024**HLT", "DTP*349*D8*20240220"]
    out = run(enrollment(member))
    patient = next(r.resource for r in out.resources if r.resource_type == "Patient")
    assert patient["deceasedDateTime"] == "2024-02-20"
    coverage = next(r.resource for r in out.resources if r.resource_type == "Coverage")
    assert (coverage["status"], coverage["period"]) == ("cancelled", {"end": "2024-02-20"})
    assert out.problems == []
    validate(out.resources)


# -- 270 / 271 ----------------------------------------------------------------------------------
def eligibility(st01: str, subscriber: list[str]) -> str:
    return envelope("HB" if st01 == "271" else "HS", "005010X279A1", [
        "BHT*0022*11*REQ1*20240310*1016", "HL*1**20*1", "NM1*PR*2*LAKESHORE HEALTH PLAN*****PI*LHP01",
        "HL*2*1*21*1", "NM1*1P*2*NORTHSIDE CLINIC*****XX*1234567893", "HL*3*2*22*0", "TRN*2*TR1*9NORTHSIDE",
        "NM1*IL*1*DOE*JANE****MI*M100", *subscriber,
    ], st01)  # fmt: skip


def response(out: Any) -> dict[str, Any]:
    found: dict[str, Any] = next(r.resource for r in out.resources if r.resource_type == "CoverageEligibilityResponse")
    return found


@pytest.mark.parametrize(("codes", "inforce", "outcome"), [
    (["1"], True, "complete"), (["6"], False, "complete"), (["8", "C"], False, "complete"),
    (["6", "1"], True, "complete"), (["C"], None, "complete"), (["5", "AAA"], True, "partial"), (["AAA"], None, "error"),
])  # fmt: skip
def test_271_inforce_and_outcome(codes: list[str], inforce: bool | None, outcome: str) -> None:
    segments = ["AAA*Y**72*C" if c == "AAA" else f"EB*{c}**30" for c in codes]
    segments.sort(key=lambda s: not s.startswith("AAA"))  # AAA belongs to 2100C, before the EBs
    body = response(run(eligibility("271", segments)))
    assert body["outcome"] == outcome
    insurance = body.get("insurance", [{}])[0]
    assert insurance.get("inforce") == inforce
    assert ("error" in body) == ("AAA" in codes)


BAD_271 = [
    pytest.param("EB*C*IND*30***23*500", "EB*C*IND*30***23*5OO",
                 [("set 0001, loop 2110C, EB07", "`5OO` is not an amount")], id="EB07"),
    pytest.param("EB*C*IND*30***23*500", "EB*A*IND*30***23**x",
                 [("set 0001, loop 2110C, EB08", "`x` is not a number")], id="EB08"),
    pytest.param("EB*C*IND*30***23*500", "EB*F*IND*30***23***VS*y",
                 [("set 0001, loop 2110C, EB10", "`y` is not a number")], id="EB10"),
    pytest.param("DTP*346*D8*20240101", "DTP*346*D8*20241301",
                 [("set 0001, loop 2100C, DTP03", "`20241301` is not a valid date")], id="DTP*346"),
    pytest.param("DMG*D8*19800101*F", "DMG*D8*19800101*W",
                 [("set 0001, loop 2100C, DMG03", "`W` is not a gender code: expected F, M or U")], id="DMG03"),
]  # fmt: skip


@pytest.mark.parametrize(("good", "bad", "problems"), BAD_271)
def test_271_bad_values_are_problems(good: str, bad: str, problems: list[tuple[str, str]]) -> None:
    text = eligibility("271", ["DMG*D8*19800101*F", "DTP*346*D8*20240101", "EB*C*IND*30***23*500"])
    assert run(text).problems == []
    out = run(text.replace(good, bad))
    assert [(p.position, p.message) for p in out.problems] == problems
    validate(out.resources)


def test_270_and_271_of_one_inquiry_name_each_other() -> None:
    request = run((GOLDEN / "270_inquiry.x12").read_bytes())
    answer = run((GOLDEN / "271_benefits.x12").read_bytes())
    requests = {r.source_id: r.resource for r in request.resources if r.resource_type == "CoverageEligibilityRequest"}
    for r in answer.resources:
        if r.resource_type == "CoverageEligibilityResponse":
            assert r.resource["request"]["identifier"] == requests[r.source_id]["identifier"][0]
            assert r.resource["patient"] == requests[r.source_id]["patient"]


# -- 276 / 277 / 277CA ----------------------------------------------------------------------------
def status_set(st01: str, guide: str, claim: list[str]) -> str:
    return envelope("HN" if st01 == "277" else "HR", guide, [
        "BHT*0010*08*STAT1*20240320*1200*DG", "HL*1**20*1", "NM1*PR*2*LAKESHORE HEALTH PLAN*****PI*LHP01",
        "HL*2*1*21*1", "NM1*41*2*NORTHSIDE BILLING*****46*NB01", "HL*3*2*19*1",
        "NM1*1P*2*NORTHSIDE CLINIC*****XX*1234567893", *claim,
    ], st01)  # fmt: skip


CLAIM_277 = ["HL*4*3*22*0", "NM1*IL*1*DOE*JANE****MI*M100", "TRN*2*TRK1", "STC*F1:65*20240318**300*185", "REF*EJ*PCN1"]


@pytest.mark.parametrize(("category", "outcome", "disposition"), [
    ("A1", "queued", None), ("A2", "queued", None), ("P1", "queued", None), ("R3", "queued", None),
    ("F1", "complete", None), ("F2", "complete", "Denied"), ("F4", "complete", None),
    ("A3", "error", "Rejected"), ("A7", "error", "Rejected"), ("E0", "error", None), ("D0", "error", None),
])  # fmt: skip
def test_277_outcome_from_status_category(category: str, outcome: str, disposition: str | None) -> None:
    claim = [s.replace("STC*F1:65", f"STC*{category}:65") for s in CLAIM_277]
    out = run(status_set("277", "005010X212", claim))
    body = next(r.resource for r in out.resources if r.resource_type == "ClaimResponse")
    assert (body["outcome"], body.get("disposition")) == (outcome, disposition)
    assert body["extension"][0]["valueCode"] == category


BAD_277 = [
    pytest.param("STC*F1:65*20240318", "STC*Z9:65*20240318",
                 [("set 0001, loop 2200D, STC01-1", "`Z9` is not a claim status category code: expected A0–A8, D0, E0–E4, F0–F4, P0–P5 or R0–R16")],
                 id="STC01-1"),
    pytest.param("STC*F1:65*20240318", "STC*F1:65*2024031",
                 [("set 0001, loop 2200D, STC02", "`2024031` is not a CCYYMMDD date")], id="STC02"),
    pytest.param("**300*185", "**3OO*185",
                 [("set 0001, loop 2200D, STC04", "`3OO` is not an amount")], id="STC04"),
    pytest.param("TRN*2*TRK1~\nSTC*F1:65*20240318**300*185~\nREF*EJ*PCN1", "TRN*2~\nSTC*F1:65*20240318**300*185",
                 [("set 0001, loop 2200D, REF02", "no patient control number: REF*EJ and TRN02 are empty; the status is not mapped")],
                 id="no claim id"),
]  # fmt: skip


@pytest.mark.parametrize(("good", "bad", "problems"), BAD_277)
def test_277_bad_values_are_problems(good: str, bad: str, problems: list[tuple[str, str]]) -> None:
    text = status_set("277", "005010X212", CLAIM_277)
    assert run(text).problems == []
    assert text.count(good) == 1
    out = run(text.replace(good, bad))
    assert [(p.position, p.message) for p in out.problems] == problems
    validate(out.resources)


def test_276_inquiry_makes_nothing_and_is_counted_unmapped() -> None:
    inquiry = ["HL*4*3*22*0", "DMG*D8*19800101*F", "NM1*IL*1*DOE*JANE****MI*M100", "TRN*1*TRK1", "REF*EJ*PCN1", "AMT*T3*300"]
    out = run(status_set("276", "005010X212", inquiry))
    assert out.resources == [] and out.problems == [] and out.unmapped == {"276": 1}


def test_277ca_claim_loops_map_like_the_277() -> None:
    """A 277CA (X214) has the 277's claim loops, so `x12_276.map_set` maps it: the patient (HL
    level PT) in 2100D, CLM01 in TRN02."""
    text = status_set("277", "005010X214", [
        "HL*4*3*PT", "NM1*QC*1*DOE*JANE****MI*M100", "TRN*2*PCN1", "STC*A7:562:85*20240319*WQ*199.14",
        "REF*1K*ICN1", "REF*BLT*731", "DTP*472*D8*20240301",
    ])  # fmt: skip
    (ts,) = sets_of(text)
    assert ts.family == "277CA"
    m = SetMapper(ts, CTX, 0)
    x12_276.map_set(m)
    claim = next(r for r in m.resources if r.resource_type == "ClaimResponse")
    assert claim.source_id == "PCN1"
    assert (claim.resource["outcome"], claim.resource["disposition"], claim.resource["type"]["coding"][0]["code"]) == (
        "error", "Rejected", "institutional",
    )
    patient = next(r for r in m.resources if r.resource_type == "Patient")
    assert patient.source_id == "LHP01|M100"  # the 277's own patient key (not the 835's `835|…`)
    assert m.problems == []
    validate(m.resources)


# -- the public samples ---------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize(("families", "made"), [
    (("834",), {"Patient", "Organization"}),
    (("270", "271"), {"CoverageEligibilityResponse"}),
    (("276", "277"), {"ClaimResponse"}),
    (("277CA",), {"ClaimResponse"}),
])  # fmt: skip
def test_every_sample_maps(families: tuple[str, ...], made: set[str]) -> None:
    """Every 5010 set of the families maps without an exception (277CA through `x12_276`
    directly) and every resource validates; each family makes what it should somewhere."""
    found = sample_sets(*families)
    assert found
    seen: set[str] = set()
    for _name, i, ts in found:
        m = SetMapper(ts, CTX, i)
        if ts.family == "276":  # an inquiry: nothing to map, the dispatcher counts it unmapped
            x12_276.map_set(m)
        else:
            _dispatch(m)
        validate(m.resources)
        seen |= {r.resource_type for r in m.resources}
        if ts.family == "276":
            assert m.resources == []
    assert made <= seen


def _dispatch(m: SetMapper) -> None:
    from medlake.silver.mappings.x12 import family

    fn = family(m.tset.family)
    assert fn is not None, m.tset.family
    fn(m)
