"""Bulk `$export` throughput: resources per second written to NDJSON, and downloaded.

Builds the API in process (no auth, the audit sink a no-op), kicks off a system-level export
of every type, waits for the worker and reports the time from kick-off to the completed
manifest; then downloads every file through the app. The floor is the same rows read from the
serving copy and joined into NDJSON without parsing the JSON (the export parses each resource
once to set `meta.lastUpdated`, as the API does). Usage:

    python benchmarks/bench_export.py -c /tmp/s500/medlake.yaml [--tenant demo] [--per-file 20000]
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from medlake.config import load_config
from medlake.serve.app import create_app
from medlake.silver.schema import table_name


def floor(app: Any) -> tuple[int, float]:
    """Rows and seconds to read every resource and join the lines, with no JSON parse."""
    store = app.state.store
    start, rows = time.perf_counter(), 0
    for rtype in store.types:
        with store.cursor() as cur:
            cur.execute(f"SELECT resource FROM silver.{table_name(rtype)} ORDER BY id")
            while batch := cur.fetchmany(20_000):
                b"\n".join(r[0].encode() for r in batch)
                rows += len(batch)
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--per-file", type=int, default=20_000)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    app = create_app(load_config(args.config), args.tenant, audit=lambda *a: None)
    app.state.bulk.settings = replace(app.state.bulk.settings, max_resources_per_file=args.per_file)
    with TestClient(app) as client:
        headers = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
        start = time.perf_counter()
        status = client.get("/$export", headers=headers).headers["Content-Location"]
        app.state.bulk.jobs.wait_idle(3600)
        manifest = client.get(status).json()
        took = time.perf_counter() - start
        total = sum(o["count"] for o in manifest["output"])
        start, size = time.perf_counter(), 0
        for out in manifest["output"]:
            size += len(client.get(out["url"]).content)
        fetched = time.perf_counter() - start
        rows, base = floor(app)
        client.delete(status)
    types = len({o["type"] for o in manifest["output"]})
    print(f"export   {total:>10,} resources, {types} types, {len(manifest['output'])} files, {size / 1e6:,.1f} MB: "
          f"{took:6.2f} s  {total / took:>9,.0f} resources/s")
    print(f"download {len(manifest['output']):>10,} files: {fetched:6.2f} s  {size / 1e6 / fetched:>9,.0f} MB/s")
    print(f"floor    {rows:>10,} rows read and joined, no JSON parse: {base:6.2f} s  {rows / base:>9,.0f} resources/s")


if __name__ == "__main__":
    main()
