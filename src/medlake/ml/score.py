"""Score the latest prediction time of each person and write `gold.ml_predictions`.

`gold.ml_predictions` (grain: one row per model × person): person_id, model, predicted_at,
score (predicted probability), rank (1 = highest score within the model). Scoring a model
replaces only that model's rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medlake.ml import features, store

PREDICTIONS = "ml_predictions"


def score_model(con: Any, model: str, model_root: Path, *, as_of: str | None = None, months: int = 36) -> int:
    """Score `model` with its saved estimator; returns the number of people scored."""
    import numpy as np
    import pyarrow as pa

    spec = features.model_spec(model)
    payload = store.load_model(model_root / model, model)
    table = features.build_features(con, model, as_of=as_of, months=months)
    store.write_table(con, f"ml_features_{model}", table)
    con.register("ml_scoring_in", table)
    try:
        latest = con.sql(
            "select * from ml_scoring_in qualify row_number() over (partition by person_id "
            "order by predicted_at desc, index_encounter_id desc) = 1 order by person_id"
        ).to_arrow_table()
    finally:
        con.unregister("ml_scoring_in")
    names = tuple(payload["features"])
    if not set(names) <= set(spec.features):
        raise store.ModelFileError(
            f"the saved `{model}` model uses other features than this medlake version; retrain it",
            model=model,
        )
    x = np.column_stack([np.asarray(latest[n].to_numpy(zero_copy_only=False), dtype=float) for n in names]) if latest.num_rows else np.empty((0, len(names)))
    scores = payload["estimator"].predict_proba(x)[:, 1] if latest.num_rows else np.empty(0)
    out = pa.table({
        "person_id": latest["person_id"],
        "model": pa.array([model] * latest.num_rows, pa.string()),
        "predicted_at": latest["predicted_at"],
        "score": pa.array(scores, pa.float64()),
    })  # fmt: skip
    target = store.gold_relation(con, PREDICTIONS)
    con.execute(
        f"create table if not exists {target} (person_id varchar, model varchar, "
        "predicted_at timestamptz, score double, rank bigint)"
    )
    con.execute(f"delete from {target} where model = ?", [model])
    con.register("ml_scores_in", out)
    try:
        con.execute(
            f"insert into {target} select person_id, model, predicted_at, score, "
            "row_number() over (order by score desc, person_id) from ml_scores_in"
        )
    finally:
        con.unregister("ml_scores_in")
    return int(latest.num_rows)
