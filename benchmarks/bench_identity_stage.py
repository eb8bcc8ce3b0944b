"""Time the identity stage on a built lake (default: a copy of the 500-person demo at /tmp/s500).

    .venv/bin/python benchmarks/bench_identity_stage.py [PROJECT_DIR]

Copies the project (the original is not touched), then runs `run_identity` three times: from
scratch, again with no new data (must change nothing), and after one manual unlink. Prints
seconds, records, persons and what each run changed. No asserts.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from medlake.config import load_config
    from medlake.pipeline import open_lake
    from medlake.silver.identity.crosswalk import read_crosswalk
    from medlake.silver.identity.overrides import add_override
    from medlake.silver.identity.stage import run_identity

    src = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/s500")
    work = Path(tempfile.mkdtemp(prefix="bench_identity_")) / "p"
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("identity", "Person"))
    project = load_config(work / "medlake.yaml")
    tenant = project.tenants[0]
    lake = open_lake(project, tenant.name)

    def once(label: str) -> None:
        t0 = time.perf_counter()
        s = run_identity(project, tenant, lake, label)
        print(f"{label:>10}: {time.perf_counter() - t0:6.2f} s  records={s.records:,} persons={s.persons:,} "
              f"crosswalk_changed={s.crosswalk_changed:,} person_versions={s.persons_written:,} "
              f"events={s.events} match_s={s.match.get('seconds')}")

    once("scratch")
    once("rerun")
    xw = read_crosswalk(lake).to_pylist()
    by: dict[str, list[str]] = {}
    for r in xw:
        by.setdefault(r["person_id"], []).append(r["record_id"])
    a, b = next(sorted(v)[:2] for v in by.values() if len(v) >= 2)
    add_override(lake, a, b, "unlink", "benchmark")
    once("unlink")
    shutil.rmtree(work.parent)


if __name__ == "__main__":
    main()
