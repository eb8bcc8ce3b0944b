"""`medlake ml …`: train the gold ML models and score people for outreach lists.

    medlake ml train [--model readmission|diabetes|ed]   features, fit, model card, saved model
    medlake ml score [--model …]                         gold.ml_predictions

Registered in cli/main.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

# the same options as in cli/main.py (imported lazily there: main imports this module)
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")]

ml_app = typer.Typer(
    help="Point-in-time ML features, gradient-boosting models and scores over gold.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ModelOpt = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="readmission, diabetes or ed (repeatable; default: all three)."),
]
LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="End of the data (ISO instant); default: the latest event time.")
]
MonthsOpt = Annotated[int, typer.Option("--months", min=1, help="Month-start prediction times to build, back from --as-of.")]


def _open(config: Path, lake: Path | None, tenant: str | None) -> tuple[Any, Path]:
    """A read-write DuckDB connection to the tenant's gold.duckdb and its `gold/ml` folder."""
    from medlake.cli.main import _open_tenant_lake
    from medlake.errors import LakeError
    from medlake.lake.catalog import duckdb_connect

    tenant_lake = _open_tenant_lake(config, lake, tenant)
    db = Path(tenant_lake.gold_db)
    if "://" in tenant_lake.root or not db.is_file():
        raise LakeError(
            f"no gold database at `{db}`; build gold first (`medlake run` or `medlake demo`)",
            path=str(db),
        )
    return duckdb_connect(str(db)), db.parent / "ml"


def _models(model: list[str] | None) -> list[str]:
    from medlake.ml.features import MODELS, model_spec

    for m in model or []:
        model_spec(m)
    return list(model or MODELS)


@ml_app.command("train")
def train(
    config: ConfigOpt = Path("medlake.yaml"),
    tenant: TenantOpt = None,
    lake: LakeOpt = None,
    model: ModelOpt = None,
    as_of: AsOfOpt = None,
    months: MonthsOpt = 36,
) -> None:
    """Build gold.ml_features_<model>, train on earlier prediction times, test on later ones, and
    write the model card (Markdown + JSON) and the model under <tenant>/gold/ml/<model>/.

    A model with too few outcomes is skipped with a message; exits 1 when none was trained.

    Example: medlake ml train -c ./medlake-demo/medlake.yaml --model readmission
    """
    from medlake.cli.main import _fail, console, err
    from medlake.errors import MedlakeError
    from medlake.ml.train import TrainingError, train_model

    try:
        models = _models(model)
        con, out_dir = _open(config, lake, tenant)
    except MedlakeError as e:
        raise _fail(e) from None
    trained = 0
    try:
        for m in models:
            try:
                r = train_model(con, m, out_dir, as_of=as_of, months=months)
            except TrainingError as e:
                err.print(f"skipped {m}: {e.message}", markup=False, highlight=False, soft_wrap=True)
                continue
            except MedlakeError as e:
                raise _fail(e) from None
            trained += 1
            console.out(
                f"{m}: AUC {r.auc:.3f} on {r.test_rows} test rows ({r.test_positives} positive), "
                f"trained on {r.train_rows} ({r.train_positives} positive); card {r.card_path}",
                highlight=False,
            )
    finally:
        con.close()
    if not trained:
        raise typer.Exit(1)


@ml_app.command("score")
def score(
    config: ConfigOpt = Path("medlake.yaml"),
    tenant: TenantOpt = None,
    lake: LakeOpt = None,
    model: ModelOpt = None,
    as_of: AsOfOpt = None,
    months: MonthsOpt = 36,
) -> None:
    """Score each person at their latest prediction time with the trained model(s) and write
    gold.ml_predictions (person_id, model, predicted_at, score, rank; 1 = highest).

    Without --model, every trained model is scored and untrained ones are skipped.

    Example: medlake ml score -c ./medlake-demo/medlake.yaml --model ed
    """
    from medlake.cli.main import _fail, console, err
    from medlake.errors import MedlakeError
    from medlake.ml.score import score_model

    try:
        models = _models(model)
        con, out_dir = _open(config, lake, tenant)
    except MedlakeError as e:
        raise _fail(e) from None
    scored = 0
    try:
        for m in models:
            if not model and not (out_dir / m / "model.joblib").is_file():
                err.print(f"skipped {m}: no trained model (run `medlake ml train --model {m}`)", markup=False, highlight=False, soft_wrap=True)
                continue
            n = score_model(con, m, out_dir, as_of=as_of, months=months)
            scored += 1
            console.out(f"{m}: scored {n} people into gold.ml_predictions", highlight=False)
    except MedlakeError as e:
        raise _fail(e) from None
    finally:
        con.close()
    if not scored:
        raise typer.Exit(1)
