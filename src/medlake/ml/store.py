"""Where ML outputs live: tables in gold.duckdb (schema `gold`), models under `gold/ml/`.

Saved models are joblib files holding the estimator with a header (format, medlake and
scikit-learn versions, feature names); `load_model` refuses a file from another format or
scikit-learn minor version (retrain instead). Like any pickle, load only files you wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medlake import __version__
from medlake.errors import MedlakeError, Terminal
from medlake.ml._sklearn import sklearn_version

FORMAT = 1
GOLD_SCHEMA = "gold"


class ModelFileError(MedlakeError, Terminal):
    """A saved model is missing or was written by an incompatible version."""


def gold_relation(con: Any, name: str) -> str:
    """`"<db>".gold."<name>"`, creating the schema: in gold.duckdb the database is named
    `gold` too, so a two-part `gold.<name>` would be ambiguous."""
    row = con.execute("select current_database()").fetchone()
    db = str(row[0]).replace('"', '""')
    con.execute(f'create schema if not exists "{db}".{GOLD_SCHEMA}')
    return f'"{db}".{GOLD_SCHEMA}."{name}"'


def write_table(con: Any, name: str, table: Any) -> None:
    """Replace `gold.<name>` in the connection's database with an Arrow table."""
    target = gold_relation(con, name)
    con.register("ml_arrow_in", table)
    try:
        con.execute(f"create or replace table {target} as select * from ml_arrow_in")
    finally:
        con.unregister("ml_arrow_in")


def save_model(model_dir: Path, estimator: Any, model: str, feature_names: tuple[str, ...]) -> Path:
    import joblib

    path = model_dir / "model.joblib"
    payload = {
        "format": FORMAT,
        "model": model,
        "medlake_version": __version__,
        "sklearn_version": sklearn_version(),
        "features": list(feature_names),
        "estimator": estimator,
    }
    joblib.dump(payload, path)
    return path


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load_model(model_dir: Path, model: str) -> dict[str, Any]:
    """The saved payload of `model`, after the format and version checks."""
    import joblib

    path = model_dir / "model.joblib"
    if not path.is_file():
        raise ModelFileError(
            f"no trained `{model}` model at `{path}`; run `medlake ml train --model {model}` first",
            path=str(path),
        )
    payload: dict[str, Any] = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("model") != model:
        raise ModelFileError(f"`{path}` is not a medlake `{model}` model (format {FORMAT}); retrain it", path=str(path))
    saved, now = str(payload.get("sklearn_version")), sklearn_version()
    if _minor(saved) != _minor(now):
        raise ModelFileError(
            f"`{path}` was trained with scikit-learn {saved}, this is {now}; "
            f"retrain with `medlake ml train --model {model}`",
            path=str(path),
        )
    return payload
