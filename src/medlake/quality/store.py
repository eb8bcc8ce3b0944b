"""The results table `_meta/check_results` (catalog `meta.check_results`, `RESULT_SCHEMA`).

One row per check × group × run, appended. Writing a run that is already stored first deletes
that run's rows, so re-running a run id replaces its results instead of doubling them.
"""

from __future__ import annotations

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.quality.model import RESULT_SCHEMA, CheckResult


def results_table(tenant: str, results: list[CheckResult]) -> pa.Table:
    """Results as rows of `RESULT_SCHEMA`."""
    rows = [
        {
            "run_id": r.run_id,
            "tenant": tenant,
            "check_id": r.check_id,
            "table_name": r.table,
            "source": r.group,
            "category": r.category,
            "dimension": r.dimension,
            "severity": r.severity,
            "status": r.status,
            "failing_rows": r.failing,
            "total_rows": r.total,
            "threshold_pct": r.threshold_pct,
            "sentence": r.sentence,
            "query": r.query,
            "blocks": list(r.blocks),
            "checked_at": r.checked_at,
        }
        for r in results
    ]
    return pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)


def write_results(lake: TenantLake, results: list[CheckResult]) -> None:
    """Append `results` (one run) to `_meta/check_results`, replacing that run's earlier rows."""
    if not results:
        return
    uri = lake.meta("check_results")
    opts = lake.delta_options()
    run_ids = sorted({r.run_id for r in results})
    if delta.exists(uri, opts):
        from deltalake import DeltaTable

        dt = DeltaTable(uri, storage_options=opts or None)
        listing = ", ".join("'" + r.replace("'", "''") + "'" for r in run_ids)
        dt.delete(f"run_id in ({listing})")
    delta.append(uri, results_table(lake.tenant, results), opts)
