"""The master patient index on the synthetic health system, through the pipeline.

Ground truth: `truth/identities.csv` (source, the source's own patient number, true person)
and, for records that carry no such number (FHIR Patients keyed by resource id), the
patient rows of `truth/records.csv`. A silver Patient is scored when exactly one true person
owns one of its identifier values.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.silver.identity.overrides import add_override
from medlake.synth.generate import generate

pytestmark = pytest.mark.slow
PERSONS = 150


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    out = tmp_path_factory.mktemp("mpi")
    generate(out, PERSONS, seed=3)
    project = load_config(out / "medlake.yaml")
    run(project, project.tenants[0].name)
    return project


def _sql(project: ProjectConfig, q: str) -> list[tuple[Any, ...]]:
    con = connect(open_lake(project, project.tenants[0].name), gold=False)
    try:
        return list(con.execute(q).fetchall())
    finally:
        con.close()


def _crosswalk(project: ProjectConfig) -> dict[str, str]:
    return dict(_sql(project, "select record_id, person_id from identity.crosswalk"))  # type: ignore[arg-type]


def _truth(project: ProjectConfig) -> dict[str, str]:
    """silver Patient id → true person, for the Patients the truth files identify unambiguously."""
    truth: dict[tuple[str, str], set[str]] = defaultdict(set)
    base = Path(project.base_dir) / "truth"
    for r in csv.DictReader((base / "identities.csv").open(encoding="utf-8")):
        truth[(r["source"], r["patient_key"])].add(r["person_id"])
    for r in csv.DictReader((base / "records.csv").open(encoding="utf-8")):
        truth[(r["source"], r["record_key"])].add(r["person_id"])
    rows = _sql(project, """
        select id, source,
               coalesce(cast(json_extract_string(resource, '$.identifier[*].value') as varchar[]), [])
               || string_split_regex(source_id, '[|^]')
        from silver.patient""")
    out: dict[str, str] = {}
    for rid, source, keys in rows:
        owners = set().union(*(truth.get((source, k), set()) for k in keys))
        if len(owners) == 1:
            out[rid] = owners.pop()
    return out


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {p for g in groups.values() for p in itertools.combinations(sorted(g), 2)}


def test_pairwise_f1_against_ground_truth(project: ProjectConfig) -> None:
    truth, xwalk = _truth(project), _crosswalk(project)
    assert len(truth) >= 0.9 * len(xwalk), f"only {len(truth)} of {len(xwalk)} Patients identified by the truth files"
    by_true: dict[str, list[str]] = defaultdict(list)
    by_person: dict[str, list[str]] = defaultdict(list)
    for rid, true_person in truth.items():
        by_true[true_person].append(rid)
        by_person[xwalk[rid]].append(rid)
    t, p = _pairs(by_true), _pairs(by_person)
    precision, recall = len(t & p) / len(p), len(t & p) / len(t)
    f1 = 2 * precision * recall / (precision + recall)
    msg = f"P={precision:.4f} R={recall:.4f} F1={f1:.4f} persons={len(by_person)} true={len(by_true)}"
    assert f1 >= 0.99, msg
    # distinct persons ≈ true persons present (within the F1 goal)
    assert abs(len(by_person) - len(by_true)) <= 0.01 * len(by_true) + 1, msg


def test_every_patient_has_one_person_and_gold_is_per_person(project: ProjectConfig) -> None:
    n_patients, n_xwalk, n_persons = _sql(project, """
        select (select count(*) from silver.patient), (select count(*) from identity.crosswalk),
               (select count(distinct person_id) from identity.crosswalk)""")[0]
    assert n_patients == n_xwalk
    con = connect(open_lake(project, project.tenants[0].name))
    try:
        rows, distinct = con.execute("select count(*), count(distinct person_id) from gold.patient_360").fetchone()
        active = con.execute("select count(*) from views.person").fetchone()[0]
    finally:
        con.close()
    assert rows == distinct == n_persons == active


def test_rerun_changes_no_person_id(project: ProjectConfig) -> None:
    before = _crosswalk(project)
    versions = _sql(project, "select count(*) from silver.person_history")[0][0]
    summary = run(project, project.tenants[0].name, stages=("silver", "identity"))
    assert _crosswalk(project) == before
    stage = summary.stage("identity")
    assert stage is not None and stage.details["crosswalk_changed"] == 0 and stage.details["events"] == {}
    assert _sql(project, "select count(*) from silver.person_history")[0][0] == versions


def _a40_file(project: ProjectConfig, survivor_pid: str) -> Path:
    """A new ADT file: a second registration under MRN DUP9000001 (no demographics in common),
    then an A40 merging it into the survivor (the survivor's PID repeated as the feed sends it)."""
    hdr = "MSH|^~\\&|HIS|LGH|MEDLAKE|LGH|{ts}||ADT^{ev}|{ctl}|P|2.5|||AL|NE"
    msgs = [
        "\r".join([hdr.format(ts="20250102080000", ev="A04^ADT_A01", ctl="ADTX0000001"),
                   "EVN|A04|20250102080000",
                   "PID|1||DUP9000001^^^HOSP^MR||Qwertyuiop^Zed||19010101|M|||1 Nowhere Rd^^Springfield^IL^62701^USA"]),
        "\r".join([hdr.format(ts="20250103080000", ev="A40^ADT_A39", ctl="ADTX0000002"),
                   "EVN|A40|20250103080000", survivor_pid, "MRG|DUP9000001^^^HOSP^MR"]),
    ]
    path = Path(project.base_dir) / "adt" / "adt_9001.hl7"
    path.write_bytes(("\r".join(msgs) + "\r").encode())
    return path


def _a40s(project: ProjectConfig) -> list[tuple[str, str]]:
    """(survivor MRN, merged MRN) of every A40 in the ADT feed."""
    out = []
    for f in sorted((Path(project.base_dir) / "adt").glob("*.hl7")):
        for msg in re.split(r"[\r\n]+(?=MSH\|)", f.read_bytes().decode("utf-8-sig")):
            if "|ADT^A40" not in msg.split("\r", 1)[0].split("\n", 1)[0]:
                continue
            segs = {s[:3]: s.split("|") for s in re.split(r"[\r\n]+", msg)}
            out.append((segs["PID"][3].split("^")[0], segs["MRG"][1].split("^")[0]))
    return out


def test_every_a40_merge_is_honoured(project: ProjectConfig) -> None:
    text = next((Path(project.base_dir) / "adt").glob("*.hl7")).read_bytes().decode("utf-8-sig")
    survivor_pid = next(s for s in re.split(r"[\r\n]+", text) if s.startswith("PID|"))
    _a40_file(project, survivor_pid)
    run(project, project.tenants[0].name, stages=("land", "bronze", "silver", "identity"))
    merges = _a40s(project)
    assert merges, "no A40 in the ADT feed"
    person_of_mrn = dict(_sql(project, """
        select json_extract_string(p.resource, '$.identifier[0].value'), x.person_id
        from silver.patient p join identity.crosswalk x on x.record_id = p.id
        where p.source = 'adt'"""))
    for survivor, merged in merges:
        assert person_of_mrn[survivor] == person_of_mrn[merged], (survivor, merged)
    rules = dict(_sql(project, """
        select json_extract_string(p.resource, '$.identifier[0].value'), x.rule
        from silver.patient p join identity.crosswalk x on x.record_id = p.id where p.source = 'adt'"""))
    assert rules["DUP9000001"] == "a40"


def test_manual_unlink_splits_and_survives_a_rerun(project: ProjectConfig) -> None:
    xwalk = _crosswalk(project)
    members: dict[str, list[str]] = defaultdict(list)
    for rid, pid in xwalk.items():
        members[pid].append(rid)
    person, recs = next((p, sorted(r)) for p, r in sorted(members.items()) if len(r) == 2)
    lake = open_lake(project, project.tenants[0].name)
    add_override(lake, recs[0], recs[1], "unlink", "test: two different people")
    run(project, project.tenants[0].name, stages=("identity",))
    after = _crosswalk(project)
    assert after[recs[0]] != after[recs[1]]
    assert person in (after[recs[0]], after[recs[1]])  # the id stays with one part
    assert {k: v for k, v in after.items() if k not in recs} == {k: v for k, v in xwalk.items() if k not in recs}
    events = _sql(project, f"select event from identity.events where other_person_id = '{person}'")
    assert ("split",) in events
    run(project, project.tenants[0].name, stages=("identity",))
    assert _crosswalk(project) == after
    status = _sql(project, f"""select status from identity.review
        where record_id_l = '{recs[0]}' and record_id_r = '{recs[1]}'""")
    assert status in ([], [("unlinked",)])
