"""The 837 and 835 files read back with the test-only reader: envelopes, totals, balancing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from hl7x12_readers import X12File, money, read_x12


def _files(out: Path, prefix: str) -> list[Path]:
    return sorted((out / "claims").glob(f"{prefix}_*.x12"))


def _envelope_errors(x: X12File) -> list[str]:
    """Every control-number or count mismatch in one interchange, as `ST02 0003 SE01` etc."""
    errors: list[str] = []
    segs = x.segments
    assert segs[0][0] == "ISA" and segs[-1][0] == "IEA"
    groups = sets = in_set = 0
    for s in segs[1:]:
        tag = s[0]
        if tag == "GS":
            groups += 1
            sets, gs06 = 0, s[6]
        elif tag == "ST":
            sets += 1
            in_set, st02 = 1, s[2]
        elif tag == "SE":
            in_set += 1
            if int(s[1]) != in_set or s[2] != st02:
                errors.append(f"ST02 {st02} SE01")
        elif tag == "GE":
            if int(s[1]) != sets or s[2] != gs06:
                errors.append("GE")
        elif tag == "IEA":
            if int(s[1]) != groups or s[2] != segs[0][13]:
                errors.append("IEA")
        else:
            in_set += 1
    return errors


def test_every_interchange_is_well_formed_but_the_recorded_one(out: Path, defects: list[dict[str, str]]) -> None:
    found = []
    isa13 = []
    for path in sorted((out / "claims").glob("*.x12")):
        x = read_x12(path)
        assert len(x.isa) == 106 and (x.element, x.repetition, x.component, x.terminator) == ("*", "^", ":", "~")
        assert path.read_text().count("~\n") == len(x.segments)  # a newline after every terminator
        gs = [s for s in x.segments if s[0] == "GS"]
        assert len(gs) == 1 and gs[0][8] == {"837p": "005010X222A1", "837i": "005010X223A2", "835": "005010X221A1"}[path.stem.split("_")[0]]
        isa13.append(x.segments[0][13])
        found += [(f"claims/{path.name}", e) for e in _envelope_errors(x)]
    assert len(isa13) == len(set(isa13))
    recorded = [(d["file"], d["location"]) for d in defects if d["defect"] == "x12_se_count"]
    assert found == recorded and len(found) == 1 and found[0][0].startswith("claims/837p_")


def _claims_837(out: Path, prefix: str) -> dict[str, tuple[int, list[int]]]:
    """CLM01 → (CLM02 in cents, line charges in cents)."""
    claims: dict[str, tuple[int, list[int]]] = {}
    for path in _files(out, prefix):
        current = ""
        for s in read_x12(path).segments:
            if s[0] == "CLM":
                current = s[1]
                claims[current] = (money(s[2]), [])
            elif s[0] == "SV1":
                claims[current][1].append(money(s[2]))
            elif s[0] == "SV2":
                claims[current][1].append(money(s[3]))
    return claims


def test_837_claim_totals_are_the_sum_of_their_lines(out: Path) -> None:
    prof, inst = _claims_837(out, "837p"), _claims_837(out, "837i")
    assert len(prof) == 120 and len(inst) == 30  # each person: office + (stay visit | ED); even: stay
    for total, lines in [*prof.values(), *inst.values()]:
        assert lines and total == sum(lines)


def test_837_hierarchy_and_claim_codes(out: Path) -> None:
    for prefix in ("837p", "837i"):
        for path in _files(out, prefix):
            segs = read_x12(path).segments
            hl = [s for s in segs if s[0] == "HL"]
            assert all(s[3] in ("20", "22", "23") for s in hl)
            for s in segs:
                if s[0] == "NM1" and s[1] == "85":
                    assert s[8] == "XX" and len(s[9]) == 10
                if s[0] == "CLM":
                    _code, qual, freq = s[5].split(":")
                    assert qual == ("B" if prefix == "837p" else "A") and freq == "1"
                if s[0] == "HI":
                    assert s[1].startswith("ABK:") and all(e.startswith("ABF:") for e in s[2:])


def _remits(out: Path) -> list[dict[str, object]]:
    """Each CLP with its claim- and line-level CAS sums and its lines, and the payment totals."""
    clps: list[dict[str, object]] = []
    for path in _files(out, "835"):
        payment: dict[str, object] = {}
        for s in read_x12(path).segments:
            tag = s[0]
            if tag == "BPR":
                payment = {"bpr": money(s[2]), "clp04": 0, "plb": 0}
            elif tag == "CLP":
                clp: dict[str, object] = {"file": f"claims/{path.name}", "id": s[1], "status": s[2], "charge": money(s[3]), "paid": money(s[4]),
                       "pr": money(s[5]), "icn": s[7], "cas": 0, "pr_cas": 0, "lines": []}  # fmt: skip
                clps.append(clp)
                payment["clp04"] = int(payment["clp04"]) + money(s[4])  # type: ignore[call-overload]
            elif tag == "SVC":
                line = {"charge": money(s[2]), "paid": money(s[3]), "cas": 0}
                clp["lines"].append(line)  # type: ignore[attr-defined]
            elif tag == "CAS":
                amounts = [money(s[i]) for i in range(3, len(s), 3) if s[i]]
                target = line if clp["lines"] else clp
                target["cas"] = int(target["cas"]) + sum(amounts)  # type: ignore[call-overload]
                clp["cas"] = int(clp["cas"]) + (sum(amounts) if target is line else 0)  # type: ignore[call-overload]
                if s[1] == "PR":
                    clp["pr_cas"] = int(clp["pr_cas"]) + sum(amounts)  # type: ignore[call-overload]
            elif tag == "PLB":
                payment["plb"] = int(payment["plb"]) + sum(money(s[i]) for i in range(4, len(s), 2))  # type: ignore[call-overload]
            elif tag == "SE":
                assert payment["bpr"] == int(payment["clp04"]) - int(payment["plb"])  # type: ignore[call-overload]
    return clps


def test_835_balances_except_the_recorded_claim(out: Path, defects: list[dict[str, str]]) -> None:
    unbalanced = []
    for clp in _remits(out):
        lines = clp["lines"]
        assert isinstance(lines, list)
        for ln in lines:
            assert ln["charge"] - ln["paid"] == ln["cas"]
        assert clp["pr"] == clp["pr_cas"]
        if clp["charge"] - clp["paid"] != clp["cas"]:  # type: ignore[operator]
            unbalanced.append((clp["file"], f"CLP01 {clp['id']} CLP07 {clp['icn']}"))
    recorded = [(d["file"], d["location"]) for d in defects if d["defect"] == "x12_835_unbalanced"]
    assert unbalanced == recorded and len(unbalanced) == 1


def test_835_answers_every_adjudicated_837_and_reversals_negate_the_original(out: Path) -> None:
    billed = set(_claims_837(out, "837p")) | set(_claims_837(out, "837i"))
    by_id: dict[str, list[dict[str, object]]] = defaultdict(list)
    for clp in _remits(out):
        by_id[str(clp["id"])].append(clp)
    assert set(by_id) == billed
    statuses = {str(c["status"]) for cs in by_id.values() for c in cs}
    assert statuses == {"1", "4", "22"}
    reversed_ = [cs for cs in by_id.values() if any(c["status"] == "22" for c in cs)]
    assert reversed_
    for cs in reversed_:
        original, reversal, reissue = cs
        assert reversal["charge"] == -original["charge"] and reversal["paid"] == -original["paid"]  # type: ignore[operator]
        assert reversal["icn"] == original["icn"] and reissue["icn"] != original["icn"]
        assert original["file"] <= reversal["file"] and reissue["paid"] == original["paid"]  # type: ignore[operator]


def test_denials_are_codes_only(out: Path) -> None:
    text = "".join(p.read_text() for p in _files(out, "835"))
    assert "CAS*CO*50*300~" in text
    assert all(not c.isalpha() for seg in text.split("~") if seg.strip().startswith("CAS") for c in seg.split("*", 2)[2])


def test_truth_names_the_person_behind_every_claim(out: Path, records: list[dict[str, str]]) -> None:
    truth = {(r["kind"], r["record_key"]): r["person_id"] for r in records if r["source"] == "claims"}
    for prefix, kind in (("837p", "837P"), ("837i", "837I")):
        for clm01 in _claims_837(out, prefix):
            assert truth[(kind, clm01)] == f"P{int(clm01[1:7]):07d}"  # fixture: C<person 6><n>
    for clp in _remits(out):
        key = str(clp["icn"]) + ("/22" if clp["status"] == "22" else "")
        assert truth[("835", key)] == f"P{int(str(clp['id'])[1:7]):07d}"
