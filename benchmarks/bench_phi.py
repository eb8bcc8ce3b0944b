"""PHI: the cost of security labels on the silver hot path, and de-identification throughput.

Labels: every current resource of a built lake (JSON from `silver.*`), labelled in memory,
against the floor the store pays anyway for each resource (one `orjson.dumps` + SHA-256).
De-identification: the Safe Harbor `SELECT` of the largest views and marts against a plain
`SELECT *` of the same table (both materialized to Arrow), and the time to open a
`medlake sql --deidentified` session (every view and mart materialized). Usage:

    python benchmarks/bench_phi.py --lake /tmp/s500/lake --tenant demo

The lake is read only, except that the tenant's pseudonym key is created if it has none: copy
a lake you must not write to.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import date
from typing import Any

import orjson

from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake
from medlake.silver.phi.deid import deidentify
from medlake.silver.phi.labels import label
from medlake.silver.phi.output import deidentified_session, tenant_key


def _best(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_labels(con: Any, repeat: int) -> None:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'silver' AND table_name NOT LIKE '%_history'"
    ).fetchall()]
    texts = [t for name in tables for (t,) in con.execute(f'SELECT resource FROM silver."{name}"').fetchall()]
    resources = [orjson.loads(t) for t in texts]

    def do_label() -> None:
        for r in resources:
            label(r)

    def floor() -> None:
        for r in resources:
            hashlib.sha256(orjson.dumps(r)).hexdigest()

    lab, flo = _best(do_label, repeat), _best(floor, repeat)
    n = len(resources)
    print(f"labels: {n:,} resources  label {n / lab:,.0f}/s  dumps+sha256 floor {n / flo:,.0f}/s  label/floor time {lab / flo:.2f}")


def bench_deid(con: Any, key: bytes, repeat: int) -> None:
    for table in ("views.observation", "views.patient", "gold.patient_360", "gold.fct_observations", "views.claim_line"):
        d = deidentify(con, table, key=key, as_of=date(2025, 1, 1))
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        plain = _best(lambda t=table: con.sql(f"SELECT * FROM {t}").to_arrow_table(), repeat)
        safe = _best(lambda s=d.sql: con.sql(s).to_arrow_table(), repeat)
        print(f"deid {table}: {rows:,} rows  {rows / safe:,.0f} rows/s  plain {rows / plain:,.0f} rows/s  deid/plain time {safe / plain:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", default="/tmp/s500/lake")
    ap.add_argument("--tenant", default="demo")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    lake = TenantLake.open(a.lake, a.tenant)
    con = connect(lake)
    con.execute("SET enable_progress_bar = false")
    bench_labels(con, a.repeat)
    bench_deid(con, tenant_key(lake), a.repeat)
    con.close()
    t = time.perf_counter()
    s = deidentified_session(lake)
    print(f"deidentified session: {len(s.tables)} tables in {time.perf_counter() - t:.1f} s")
    s.con.close()


if __name__ == "__main__":
    main()
