"""End-to-end: synthetic health system → landing → bronze → silver → gold, at several sizes.

Prints, per size, the seconds per stage, rows written per layer, rows per second and peak
memory (RSS of this process). Each size runs in a fresh process so peaks do not mix. Usage:

    python benchmarks/bench_demo.py --patients 1000 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(patients: int, seed: int) -> dict[str, object]:
    from medlake.config import load_config
    from medlake.lake.catalog import connect
    from medlake.pipeline import open_lake, run
    from medlake.synth.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        generate(out, patients, seed)
        synth_s = time.perf_counter() - t0
        project = load_config(out / "medlake.yaml")
        tenant = project.tenants[0].name
        summary = run(project, tenant)
        con = connect(open_lake(project, tenant))
        counts = {}
        for schema in ("bronze", "silver", "views", "gold"):
            names = [r[0] for r in con.execute(
                "select view_name from duckdb_views() where schema_name = ? and not internal", [schema]
            ).fetchall()]
            counts[schema] = sum(con.execute(f'select count(*) from {schema}."{n}"').fetchone()[0] for n in names)
        stages = {s.stage: round(s.seconds, 2) for s in summary.stages}
        total = sum(stages.values())
        return {
            "patients": patients,
            "synth_s": round(synth_s, 2),
            "stages_s": stages,
            "land_to_gold_s": round(total, 2),
            "rows": counts,
            "silver_rows_per_s": round(counts["silver"] / max(stages.get("silver", 1e-9), 1e-9)),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    results = []
    for n in args.patients:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{n:,} patients failed:\n{out.stderr[-4000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(json.dumps(r))
    print(f"{'patients':>9} {'synth s':>8} {'land→gold s':>12} {'silver rows':>12} {'silver rows/s':>14} {'peak MB':>8}")
    for r in results:
        rows = r["rows"]
        assert isinstance(rows, dict)
        print(f"{r['patients']:>9,} {r['synth_s']:>8} {r['land_to_gold_s']:>12} {rows['silver']:>12,} "
              f"{r['silver_rows_per_s']:>14,} {r['peak_rss_mb']:>8,}")
    if len(results) > 1:
        a, b = results[0], results[-1]
        ratio_n = int(b["patients"]) / int(a["patients"])  # type: ignore[call-overload]
        ratio_t = float(b["land_to_gold_s"]) / float(a["land_to_gold_s"])  # type: ignore[arg-type]
        print(f"growth: {ratio_n:.0f}x patients → {ratio_t:.1f}x time (linear would be {ratio_n:.0f}x)")


if __name__ == "__main__":
    main()
