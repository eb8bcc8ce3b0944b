"""Terminology normalization throughput on realistic silver resources, against a floor.

Builds the synthetic health system (default 300 patients, seed 42) through silver with
normalization switched off, reads every silver resource back as JSON, then times
`normalize_resource` over fresh copies (JSON parsing is outside the timing), `--repeat` times:

- cold: a new context (GEM and ICD-10-CM lists loaded on first use, empty per-code cache);
- warm: the same context again (the steady state of a silver run);
- again: normalizing the already-normalized resources (the idempotent path);
- floors: the walk alone (find every `coding` list, do nothing), and a plain loop doing one
  dict lookup per pre-extracted (system, code) — what a per-code cache costs at the least.

Concept maps are written from the generator's code tables (lab local codes → LOINC, NDC →
RxNorm), so the maps have real work to do. Usage:

    python benchmarks/bench_terminology.py [--patients 300] [--repeat 3] [--config medlake.yaml]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson


def build(root: Path, patients: int, seed: int) -> Path:
    import yaml

    from medlake.config import load_config
    from medlake.pipeline import run
    from medlake.synth.generate import generate

    generate(root, patients, seed)
    cfg = yaml.safe_load((root / "medlake.yaml").read_text(encoding="utf-8"))
    cfg["tenants"][0]["terminology"] = {"enabled": False}
    (root / "medlake.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    run(load_config(root / "medlake.yaml"), cfg["tenants"][0]["name"], ("land", "bronze", "silver"))
    return root / "medlake.yaml"


def resources(config: Path) -> list[bytes]:
    from medlake.config import load_config
    from medlake.lake.catalog import connect
    from medlake.pipeline import open_lake

    project = load_config(config)
    con = connect(open_lake(project, project.tenants[0].name), gold=False)
    names = [r[0] for r in con.execute(
        "select view_name from duckdb_views() where schema_name = 'silver' and view_name not like '%_history'"
    ).fetchall()]
    out: list[bytes] = []
    for n in names:
        out.extend(r[0].encode() for r in con.execute(f"select resource from silver.{n}").fetchall())
    return out


def maps(folder: Path) -> Path:
    from medlake.synth.codes import DRUGS, LABS

    rows = ["source_system,source_code,target_system,target_code"]
    rows += [f"urn:medlake:demo:lab/codes/L,{lab.local_code},http://loinc.org,{lab.loinc}" for lab in LABS.values()]
    rows += [f"http://hl7.org/fhir/sid/ndc,{d.ndc10},http://www.nlm.nih.gov/research/umls/rxnorm,{d.rxnorm}" for d in DRUGS.values()]
    path = folder / "maps.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def best(repeat: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeat))


def main() -> None:
    from medlake.silver.terminology import TerminologyContext, TerminologyReport, normalize_resource
    from medlake.silver.terminology.concept_maps import load_concept_maps
    from medlake.silver.terminology.normalize import _concepts

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", type=Path, help="read silver from this project instead of building one")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = args.config or build(Path(tmp) / "synth", args.patients, args.seed)
        raw = resources(config)
        cmap = load_concept_maps([maps(Path(tmp))])
    n = len(raw)
    parsed = [orjson.loads(r) for r in raw]
    report = TerminologyReport()

    def timed(ctx: TerminologyContext, items: list[dict[str, Any]], into: TerminologyReport | None = None) -> float:
        rep = into or TerminologyReport()
        t0 = time.perf_counter()
        for r in items:
            normalize_resource(r, ctx, rep)
        return time.perf_counter() - t0

    cold = timed(TerminologyContext(cmap), copy.deepcopy(parsed), report)
    codes, added = report.codings, sum(report.added.values())
    warm_ctx = TerminologyContext(cmap)
    timed(warm_ctx, copy.deepcopy(parsed))
    warm = best(args.repeat, lambda: timed(warm_ctx, [orjson.loads(r) for r in raw]))
    done = [orjson.loads(r) for r in raw]
    timed(warm_ctx, done)
    again = best(args.repeat, lambda: timed(warm_ctx, done))

    def walk_only() -> float:
        t0 = time.perf_counter()
        for r in parsed:
            _concepts(r)
        return time.perf_counter() - t0

    pairs = [(c.get("system"), c.get("code")) for r in parsed for cc in _concepts(r) for c in cc["coding"] if type(c) is dict]
    cache = dict.fromkeys(pairs)

    def lookup_floor() -> float:
        t0 = time.perf_counter()
        for p in pairs:
            cache.get(p)
        return time.perf_counter() - t0

    walk = best(args.repeat, walk_only)
    floor = best(args.repeat, lookup_floor)
    print(f"resources: {n:,}  source codings: {codes:,}  codings added: {added:,}  distinct (system, code): {len(cache):,}")
    print(f"cold (loads GEM + ICD-10 list): {n / cold:>10,.0f} resources/s  {codes / cold:>10,.0f} codes/s")
    print(f"warm:                           {n / warm:>10,.0f} resources/s  {codes / warm:>10,.0f} codes/s")
    print(f"already normalized:             {n / again:>10,.0f} resources/s")
    print(f"floor, walk only:               {n / walk:>10,.0f} resources/s  (warm / walk = {walk / warm:.2f})")
    print(f"floor, dict lookup per coding:  {len(pairs) / floor:>10,.0f} codes/s      (warm / floor = {floor / warm:.3f})")


if __name__ == "__main__":
    main()
