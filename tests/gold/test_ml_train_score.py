"""Train, model card, saved model and scoring on a small seeded synthetic population.

The population is generated here (120 people, 2022–2024): a hidden frailty drives heart
failure, BMI and ED visits (the frailest 30 % visit about every 45 days, the others about
every 1,500), so ED visits are predictable from earlier ED visits and conditions. Nobody has an inpatient stay, so the readmission model must be skipped.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from ml_fixture import ICD10, LOINC, create_inputs, insert

from medlake.ml import store
from medlake.ml.card import WARNING
from medlake.ml.score import score_model
from medlake.ml.train import TrainingError, train_model

AS_OF = "2024-12-31T00:00:00Z"
START = datetime(2022, 1, 1, tzinfo=UTC)


def population(con: Any, people: int = 120, seed: int = 7) -> None:
    rng = random.Random(seed)
    create_inputs(con)
    for i in range(people):
        pid = f"p{i}"
        frail = rng.random()
        insert(con, "stg__patient", (pid, f"{1940 + rng.randrange(60)}-03-01", rng.choice(["female", "male"]), None))
        if frail > 0.6:
            insert(con, "stg__condition", (f"c{i}", pid, "I50.9", ICD10, None, None, None, None, START))
        insert(con, "stg__observation", (f"o{i}", pid, "final", "39156-5", LOINC, START + timedelta(days=3), 22 + 15 * frail))
        insert(con, "stg__encounter", (f"a{i}", pid, "finished", "AMB", START + timedelta(days=3), START + timedelta(days=3, hours=1), None))
        day = 0
        while True:
            day += int(rng.expovariate(1 / 45 if frail > 0.7 else 1 / 1500)) + 1
            if day > 1090:
                break
            at = START + timedelta(days=day)
            insert(con, "stg__encounter", (f"ed{i}_{day}", pid, "finished", "EMER", at, at + timedelta(hours=3), None))


@pytest.fixture()
def con() -> Iterator[Any]:
    c = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    population(c)
    yield c
    c.close()


@pytest.mark.slow  # ~10 s: gradient boosting and permutation importance on ~2,000 rows
def test_train_writes_card_and_model_then_score_ranks(con: Any, tmp_path: Path) -> None:
    result = train_model(con, "ed", tmp_path, as_of=AS_OF, months=30)
    assert result.test_positives > 0 and result.train_positives >= 10
    assert result.auc > 0.6  # seeded population with a strong signal; not a claim about care
    card = json.loads((tmp_path / "ed" / "model_card.json").read_text(encoding="utf-8"))
    assert card["model"] == "ed"
    assert card["auc"] == result.auc
    assert card["split"]["train_rows"] == result.train_rows
    # the time split keeps a gap: every training label window ends before the test period
    last_train = datetime.fromisoformat(card["split"]["train_last_prediction_time"])
    assert last_train + timedelta(days=183) <= datetime.fromisoformat(card["split"]["test_from"])
    assert {r["feature"] for r in card["permutation_importance"]} == set(card["features"])
    assert sum(b["rows"] for b in card["calibration"]) == result.test_rows
    md = result.card_path.read_text(encoding="utf-8")
    assert md.startswith("# Model card: `ed`\n\n" + WARNING)
    assert "say nothing about clinical performance" in md
    assert f"AUC on the test period: **{result.auc:.3f}**" in md
    features = con.execute('select count(*), count(label) from memory.gold."ml_features_ed"').fetchone()
    assert features[0] > features[1] > 0  # unlabelled recent months are kept for scoring

    scored = score_model(con, "ed", tmp_path, as_of=AS_OF, months=30)
    rows = con.execute('select person_id, model, predicted_at, score, rank from memory.gold.ml_predictions order by rank').fetchall()
    assert len(rows) == scored == 120
    assert [r[4] for r in rows] == list(range(1, 121))
    assert all(a[3] >= b[3] for a, b in itertools.pairwise(rows))
    # each person is scored at their latest prediction time (people without an encounter in
    # the last 24 months leave the population earlier)
    latest = dict(con.execute('select person_id, max(predicted_at) from memory.gold."ml_features_ed" group by 1').fetchall())
    assert {r[0]: r[2] for r in rows} == latest
    assert max(latest.values()) == datetime(2024, 12, 1, tzinfo=UTC)
    # scoring again replaces the model's rows instead of appending
    score_model(con, "ed", tmp_path, as_of=AS_OF, months=30)
    assert con.execute("select count(*) from memory.gold.ml_predictions").fetchone() == (120,)


def test_too_few_positives_is_a_clear_error(con: Any, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as e:
        train_model(con, "readmission", tmp_path, as_of=AS_OF)
    assert e.value.message == (
        "model `readmission`: 0 labelled rows at 0 prediction time(s); a time split needs at "
        "least 2. Add more history or lower --months."
    )
    with pytest.raises(TrainingError) as e:
        train_model(con, "diabetes", tmp_path, as_of=AS_OF)  # nobody has diabetes
    assert "0 labelled rows" in e.value.message


def test_model_file_checks(con: Any, tmp_path: Path) -> None:
    with pytest.raises(store.ModelFileError) as e:
        score_model(con, "ed", tmp_path, as_of=AS_OF)
    assert e.value.message == (
        f"no trained `ed` model at `{tmp_path / 'ed' / 'model.joblib'}`; "
        "run `medlake ml train --model ed` first"
    )
    import joblib

    (tmp_path / "ed").mkdir()
    joblib.dump({"format": 1, "model": "ed", "sklearn_version": "0.1.0"}, tmp_path / "ed" / "model.joblib")
    with pytest.raises(store.ModelFileError) as e:
        store.load_model(tmp_path / "ed", "ed")
    assert "was trained with scikit-learn 0.1.0" in e.value.message
