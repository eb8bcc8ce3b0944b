"""The Markdown model card, rendered from the metrics dict that is also saved as JSON."""

from __future__ import annotations

from typing import Any

WARNING = (
    "**Read this first.** When trained on synthetic data (such as `medlake demo` or "
    "`medlake synth`), these numbers say nothing about clinical performance: they only show "
    "that the pipeline (point-in-time features, time split, evaluation) runs end to end. Do "
    "not use the scores for care decisions without validation on real data and clinical review."
)


def render(m: dict[str, Any]) -> str:
    """Markdown for one model's metrics."""
    s = m["split"]
    lines = [
        f"# Model card: `{m['model']}`",
        "",
        WARNING,
        "",
        f"- Predicts: {m['description']}",
        f"- Estimator: scikit-learn {m['sklearn_version']} {m['estimator']}; medlake {m['medlake_version']}",
        f"- Trained at: {m['trained_at']}",
        f"- Time split: train on prediction times up to {s['train_last_prediction_time']} "
        f"({s['train_rows']} rows, {s['train_positives']} positive); test on times from "
        f"{s['test_from']} ({s['test_rows']} rows, {s['test_positives']} positive); "
        f"{s['unlabelled_rows']} rows have no label yet or fall in the gap between the two",
        f"- Features (all from data strictly before the prediction time): {', '.join(m['features'])}",
        f"- Left out (no value in any training row of this lake): {', '.join(m['features_absent']) or 'none'}",
        "",
        "## Discrimination",
        "",
        f"AUC on the test period: **{m['auc']:.3f}**; Brier score {m['brier']:.4f}.",
        "",
        "## Calibration (test period, binned by predicted probability)",
        "",
        "| bin | rows | mean predicted | observed rate |",
        "|---|---:|---:|---:|",
        *(f"| {b['bin']} | {b['rows']} | {b['mean_predicted']:.3f} | {b['observed_rate']:.3f} |" for b in m["calibration"]),
        "",
        "## Permutation importance (drop in test AUC, 5 repeats)",
        "",
        "| feature | importance | std |",
        "|---|---:|---:|",
        *(f"| {r['feature']} | {r['importance']:.4f} | {r['std']:.4f} |" for r in m["permutation_importance"]),
        "",
    ]
    return "\n".join(lines)
