"""Machine learning over gold: point-in-time features, models, scores.

    features.build_features(con, "readmission")   the feature table (pyarrow)
    train.train_model(lake, "readmission")        fit, evaluate, model card, saved model
    score.score_model(lake, "readmission")        gold.ml_predictions for outreach lists

scikit-learn is optional (`pip install 'medlake[ml]'`); only `train` and `score` need it.
"""
