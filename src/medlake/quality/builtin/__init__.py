"""The shipped builtin checks: Python functions registered with `@builtin(name)`.

Importing this package registers them all; `checks/builtin.yaml` declares the checks that use
them (`kind: builtin`, `builtin: <name>`). One module per concern:

| module | builtins |
|---|---|
| `truncation.py` | `bronze_truncation` — files shorter than declared, cut-off last records, much smaller than usual |
| `quarantine.py` | `bronze_quarantine` — records and objects bronze could not read |
| `drift.py` | `schema_drift` — delimited feeds whose columns changed (`meta.schema_events`) |
| `freshness.py` | `freshness` — the newest landed object against `SourceConfig.freshness_hours` |
| `reconciliation.py` | `objects_reconciled` (landed = bronzed + quarantined), `x12_balance` (totals to the cent) |
| `duplicates.py` | `shared_patient_number`, `merged_registrations`, `identity_review_open` |
| `dates.py` | `date_plausibility` — after birth, before death, not in the future |
| `values.py` | `value_plausibility` — units and ranges of common labs and vitals (`ranges.py`) |
| `claims.py` | `claims_logic` — paid > allowed, discharge before admission, claim without coverage … |
"""

from medlake.quality.builtin import (  # importing registers the builtins
    claims,
    dates,
    drift,
    duplicates,
    freshness,
    quarantine,
    reconciliation,
    truncation,
    values,
)

__all__ = ["claims", "dates", "drift", "duplicates", "freshness", "quarantine", "reconciliation", "truncation", "values"]
