"""Silver stage throughput per source: bronze rows → FHIR resources → Delta silver tables.

Builds the synthetic health system (default 1,000 patients, seed 42) and its bronze layer
once in a temporary folder, then times the silver stage of each source on a fresh copy of
that lake (one worker process, so sources do not compete), `--repeat` times, and prints the
best time, rows and resources per second. Usage:

    python benchmarks/bench_silver.py [--patients 1000] [--sources ehr fhir_ehr wearables] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def build_bronze(root: Path, patients: int, seed: int) -> Path:
    from medlake.config import load_config
    from medlake.pipeline import run
    from medlake.synth.generate import generate

    out = root / "bronze"
    generate(out, patients, seed)
    project = load_config(out / "medlake.yaml")
    run(project, project.tenants[0].name, ("land", "bronze"))
    return out


def time_silver(bronze: Path, work: Path, source: str) -> tuple[float, dict[str, Any]]:
    from medlake.config import load_config
    from medlake.pipeline import run

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(bronze, work)
    project = load_config(work / "medlake.yaml")
    t0 = time.perf_counter()
    summary = run(project, project.tenants[0].name, ("silver",), sources=[source], workers=1)
    seconds = time.perf_counter() - t0
    stage = summary.stage("silver")
    assert stage is not None
    return seconds, stage.details[source]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sources", nargs="+", default=["ehr", "fhir_ehr", "wearables"])
    ap.add_argument("--repeat", type=int, default=3, help="runs per source; the best is reported")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        bronze = build_bronze(root, args.patients, args.seed)
        print(f"synthetic data + bronze for {args.patients:,} patients: {time.perf_counter() - t0:.1f} s")
        print(f"{'source':<12} {'best s':>7} {'runs s':>20} {'rows in':>9} {'resources':>10} {'resources/s':>12}")
        total = 0.0
        for source in args.sources:
            runs = [time_silver(bronze, root / "work", source) for _ in range(args.repeat)]
            best = min(s for s, _ in runs)
            stats = runs[0][1]
            total += best
            spread = " ".join(f"{s:.2f}" for s, _ in runs)
            print(f"{source:<12} {best:>7.2f} {spread:>20} {stats['rows_in']:>9,} {stats['resources']:>10,} "
                  f"{stats['resources'] / best:>12,.0f}")
        print(f"{'total':<12} {total:>7.2f}")


if __name__ == "__main__":
    main()
