"""The shipped quality measures agree with an independent computation from the generator's truth.

A small synthetic system goes through the whole pipeline; each gold person is mapped to the
TRUE person(s) behind it (silver Patient identifiers -> `truth/identities.csv` and the patient
rows of `truth/records.csv`; gold person -> silver Patients through `identity.crosswalk`).
`quality_truth.measure_flags` computes each true person's flags from `build_history`. Per
measure, per person, the flags must agree; a person whose flags may legitimately differ must
be named with its reason from the truth files (split or merged by the MPI, an injected DOB
defect, a damaged record of that person); the counts must agree once those are set aside.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from quality_truth import Flags, age_at, measure_flags

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.synth.generate import generate, histories

pytestmark = pytest.mark.slow
PERSONS = 200
SEED = 11
AGE_DEFECTS = ("dob_swap", "missing_dob")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    out = tmp_path_factory.mktemp("quality_truth")
    generate(out, PERSONS, seed=SEED)
    project = load_config(out / "medlake.yaml")
    run(project, "demo", workers=1)
    return project


def _sql(project: ProjectConfig, q: str) -> list[tuple[Any, ...]]:
    con = connect(open_lake(project, "demo"))
    try:
        return list(con.execute(q).fetchall())
    finally:
        con.close()


def _gold_to_true(project: ProjectConfig) -> dict[str, set[str]]:
    """gold person_id -> the true persons behind its silver Patients."""
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    base = Path(project.base_dir) / "truth"
    for r in csv.DictReader((base / "identities.csv").open(encoding="utf-8")):
        owners[(r["source"], r["patient_key"])].add(r["person_id"])
    for r in csv.DictReader((base / "records.csv").open(encoding="utf-8")):
        owners[(r["source"], r["record_key"])].add(r["person_id"])
    rows = _sql(project, """
        select x.person_id, p.source,
               coalesce(cast(json_extract_string(p.resource, '$.identifier[*].value') as varchar[]), [])
               || string_split_regex(p.source_id, '[|^]')
        from silver.patient as p inner join identity.crosswalk as x on x.record_id = p.id""")
    out: dict[str, set[str]] = defaultdict(set)
    for person_id, source, keys in rows:
        system = "clinic" if source == "clinic_meds" else source
        for k in keys:
            out[person_id] |= owners.get((system, k), set())
    return out


def _defects_by_person(project: ProjectConfig) -> dict[str, list[str]]:
    """true person -> the identity defects of their records (`dob_swap in lab`, …)."""
    out: dict[str, list[str]] = defaultdict(list)
    path = Path(project.base_dir) / "truth" / "defects.csv"
    for r in csv.DictReader(path.open(encoding="utf-8")):
        person = r["detail"].rsplit(" of ", 1)[-1] if " of P" in r["detail"] else ""
        if person:
            out[person].append(f"{r['defect']} in {r['source']}")
    return out


def test_measures_agree_with_the_generators_truth(project: ProjectConfig) -> None:
    (period_start, period_end), = _sql(
        project, "select distinct period_start, period_end from gold.quality_measure_summary")
    assert (period_start, period_end) == (date(2023, 1, 1), date(2023, 12, 31))
    classes = project.tenants[0].quality_visit_classes
    truth: dict[str, dict[str, Flags]] = defaultdict(dict)  # measure -> true person -> flags
    births: dict[str, date] = {}
    for h in histories(SEED, PERSONS):
        births[h.person.person_id] = h.person.birth_date
        for measure_id, flags in measure_flags(h, period_start, period_end, classes).items():
            truth[measure_id][h.person.person_id] = flags
    gold: dict[str, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    for row in _sql(project, """
            select measure_id, person_id, age_at_period_end, in_denominator, exclusion_reason, in_numerator
            from gold.quality_measure_results where in_initial_population"""):
        gold[row[0]][row[1]] = row[2:]
    g2t = _gold_to_true(project)
    t2g: dict[str, set[str]] = defaultdict(set)
    for g, ps in g2t.items():
        for p in ps:
            t2g[p].add(g)
    defects = _defects_by_person(project)

    def reason(person: str, gold_age: int | None) -> str | None:
        """Why `person`'s flags may legitimately differ, from the truth files; None: they may not."""
        if len(t2g[person]) > 1:
            return f"split by the MPI into {len(t2g[person])} persons"
        merged = [g for g in t2g[person] if len(g2t[g]) > 1]
        if merged:
            return f"merged by the MPI with {sorted(g2t[merged[0]] - {person})}"
        age_defects = [d for d in defects.get(person, []) if d.split()[0] in AGE_DEFECTS]
        if age_defects and gold_age != age_at(births[person], period_end):
            return "birth date defect: " + ", ".join(age_defects)
        return None

    unexplained: list[str] = []
    explained: dict[str, str] = {}
    for measure_id in ("CMS117", "CMS122", "CMS125", "CMS130", "CMS165"):
        expected, actual = truth[measure_id], gold[measure_id]
        assert expected, f"{measure_id}: the synthetic system gives it no initial population"
        unexplained += [f"{measure_id} gold {g}: no true person behind it in the truth files"
                        for g in actual if not g2t.get(g)]
        people = set(expected) | {p for g in actual for p in g2t.get(g, set())}
        for person in sorted(people):
            gids = t2g.get(person, set())
            rows = [actual[g] for g in gids if g in actual]
            want = expected.get(person)
            got = rows[0] if len(rows) == 1 else None
            same = (want is None and not rows) or (
                want is not None and got is not None and len(rows) == 1
                and (got[0], got[1], got[2] is not None, got[3])
                == (want.age, want.denominator, want.excluded, want.numerator))
            if same:
                continue
            why = reason(person, got[0] if got else None)
            line = f"{measure_id} {person} (gold {sorted(gids)}): truth {want}, gold {rows}"
            if why is None:
                unexplained.append(line)
            else:
                explained[f"{measure_id} {person}"] = why
        # the counts agree once the named persons are set aside
        skip = {k.split()[1] for k in explained if k.startswith(measure_id)}
        skip_gold = {g for p in skip for g in t2g.get(p, set())}
        want_counts = _counts([f for p, f in expected.items() if p not in skip])
        got_counts = _counts([Flags(r[0], r[1], r[2], r[3]) for g, r in actual.items() if g not in skip_gold])
        assert got_counts == want_counts, f"{measure_id}: gold {got_counts} != truth {want_counts}; " + "\n".join(unexplained)
        if not skip:
            assert len(actual) == len(expected)
    assert not unexplained, "flags differ without a reason in the truth files:\n" + "\n".join(unexplained)
    print(f"explained differences: {explained}")


def _counts(flags: list[Flags]) -> tuple[int, int, int, int]:
    return (len(flags), sum(f.denominator for f in flags), sum(f.excluded for f in flags),
            sum(f.numerator and f.denominator and not f.excluded for f in flags))
