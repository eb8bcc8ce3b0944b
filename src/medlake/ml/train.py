"""Train one model on its point-in-time features: time split, AUC, calibration, importances.

    result = train_model(gold_con, "readmission", out_dir=Path("lake/acme/gold/ml"))

Time split: the labelled rows are ordered by prediction time; the latest `test_fraction` of
prediction times is the test set, and the training set keeps only rows whose label window
ends before the first test time (no outcome seen in training happens during the test
period). The model is scikit-learn's HistGradientBoostingClassifier (missing values allowed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from medlake import __version__
from medlake.errors import MedlakeError, Terminal
from medlake.ml import card, features, store
from medlake.ml._sklearn import sklearn_version

MIN_POSITIVES = 10  # per class in the training set; the test set needs both classes


class TrainingError(MedlakeError, Terminal):
    """A model could not be trained (too few labelled rows or positives)."""


@dataclass(frozen=True)
class TrainResult:
    """What `train_model` wrote and measured."""

    model: str
    train_rows: int
    test_rows: int
    train_positives: int
    test_positives: int
    auc: float
    card_path: Path
    model_path: Path


def _split(table: Any, spec: features.ModelSpec, test_fraction: float) -> tuple[Any, Any, datetime]:
    import pyarrow.compute as pc

    labelled = table.filter(pc.is_valid(table["label"]))
    times = sorted(set(labelled["predicted_at"].to_pylist()))
    if len(times) < 2:
        raise TrainingError(
            f"model `{spec.name}`: {labelled.num_rows} labelled rows at {len(times)} prediction "
            "time(s); a time split needs at least 2. Add more history or lower --months.",
            model=spec.name,
            labelled_rows=labelled.num_rows,
        )
    cut = times[min(len(times) - 1, max(1, int(len(times) * (1 - test_fraction))))]
    test = labelled.filter(pc.greater_equal(labelled["predicted_at"], cut))
    horizon_days = {"30 day": 30, "6 month": 183, "12 month": 366}[spec.horizon]
    train_end = cut - timedelta(days=horizon_days)
    train = labelled.filter(pc.less(labelled["predicted_at"], train_end))
    return train, test, cut


def _check_counts(spec: features.ModelSpec, train: Any, test: Any) -> tuple[int, int]:
    pos_train = sum(v == 1 for v in train["label"].to_pylist())
    pos_test = sum(v == 1 for v in test["label"].to_pylist())
    neg_train, neg_test = train.num_rows - pos_train, test.num_rows - pos_test
    if min(pos_train, neg_train) < MIN_POSITIVES or min(pos_test, neg_test) < 1:
        raise TrainingError(
            f"model `{spec.name}` skipped: too few outcomes to train and test "
            f"(train: {pos_train} positive / {neg_train} negative, test: {pos_test} positive / "
            f"{neg_test} negative; need at least {MIN_POSITIVES} of each class in training and one "
            "of each in the test period). A larger population or longer history fixes this.",
            model=spec.name,
            train_positives=pos_train,
            test_positives=pos_test,
        )
    return pos_train, pos_test


def _matrix(table: Any, names: tuple[str, ...]) -> Any:
    import numpy as np

    cols = [np.asarray(table[n].to_numpy(zero_copy_only=False), dtype=float) for n in names]
    return np.column_stack(cols) if cols else np.empty((table.num_rows, 0))


def calibration_bins(y: Any, p: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins of predicted probability: rows, mean predicted, observed rate."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        n = int(mask.sum())
        if n:
            out.append({"bin": f"{lo:.1f}–{hi:.1f}", "rows": n, "mean_predicted": float(p[mask].mean()), "observed_rate": float(y[mask].mean())})
    return out


def train_model(
    con: Any,
    model: str,
    out_dir: Path,
    *,
    as_of: str | None = None,
    months: int = 36,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> TrainResult:
    """Build the features of `model`, fit, evaluate on the later period, write card + model."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import brier_score_loss, roc_auc_score

    spec = features.model_spec(model)
    table = features.build_features(con, model, as_of=as_of, months=months)
    store.write_table(con, f"ml_features_{model}", table)
    train, test, cut = _split(table, spec, test_fraction)
    pos_train, pos_test = _check_counts(spec, train, test)
    import numpy as np

    # a feature with no value in the training rows (no labs in this lake, say) is left out
    used = tuple(f for f in spec.features if not np.isnan(_matrix(train, (f,))).all())
    absent = [f for f in spec.features if f not in used]
    x_train, x_test = _matrix(train, used), _matrix(test, used)
    y_train, y_test = _matrix(train, ("label",)).ravel(), _matrix(test, ("label",)).ravel()
    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)
    clf.fit(x_train, y_train)
    p_test = clf.predict_proba(x_test)[:, 1]
    auc = float(roc_auc_score(y_test, p_test))
    perm = permutation_importance(clf, x_test, y_test, scoring="roc_auc", n_repeats=5, random_state=seed)
    ranked = sorted(
        zip(used, perm.importances_mean, perm.importances_std, strict=True), key=lambda r: -float(r[1])
    )
    importances = [{"feature": f, "importance": float(m), "std": float(s)} for f, m, s in ranked]
    metrics = {
        "model": model,
        "description": spec.description,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "medlake_version": __version__,
        "sklearn_version": sklearn_version(),
        "estimator": "HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05)",
        "split": {
            "test_from": cut.isoformat(),
            "train_last_prediction_time": max(train["predicted_at"].to_pylist()).isoformat(),
            "train_rows": train.num_rows, "train_positives": pos_train,
            "test_rows": test.num_rows, "test_positives": pos_test,
            "unlabelled_rows": table.num_rows - train.num_rows - test.num_rows,
        },
        "auc": auc,
        "brier": float(brier_score_loss(y_test, p_test)),
        "calibration": calibration_bins(y_test, p_test),
        "permutation_importance": importances,
        "features": list(used),
        "features_absent": absent,
    }  # fmt: skip
    model_dir = out_dir / model
    model_dir.mkdir(parents=True, exist_ok=True)
    model_path = store.save_model(model_dir, clf, model, used)
    (model_dir / "model_card.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    card_path = model_dir / "model_card.md"
    card_path.write_text(card.render(metrics), encoding="utf-8")
    return TrainResult(model, train.num_rows, test.num_rows, pos_train, pos_test, auc, card_path, model_path)
