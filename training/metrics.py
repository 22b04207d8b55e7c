"""Classification scores shared by training, evaluation and the baselines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from training.calibration import expected_calibration_error


def label_ids(records: Sequence[dict], labels: Sequence[str]) -> np.ndarray:
    """Each record's label as its index in `labels`, the form scikit-learn and the model's outputs use."""
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[r["label"]] for r in records], dtype=np.int64)


def score(y_true: np.ndarray, probabilities: np.ndarray, labels: Sequence[str]) -> dict:
    """Macro-F1, accuracy, per-label precision/recall/F1, confusion matrix (rows true) and ECE."""
    y_pred = probabilities.argmax(axis=1)
    indices = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=indices, zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "labels": list(labels),
        "macro_f1": float(f1_score(y_true, y_pred, labels=indices, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "ece": expected_calibration_error(probabilities, y_true),
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=indices).tolist(),
    }


def format_report(report: dict, title: str) -> str:
    """A plain-text table of one report, for the terminal."""
    lines = [
        f"{title}: n={report['n']}  macro-F1 {report['macro_f1']:.3f}  accuracy {report['accuracy']:.3f}  "
        f"ECE {report['ece']:.3f}",
        f"  {'label':<14}{'precision':>10}{'recall':>9}{'f1':>8}{'n':>6}",
    ]
    for label, row in report["per_label"].items():
        lines.append(
            f"  {label:<14}{row['precision']:>10.3f}{row['recall']:>9.3f}{row['f1']:>8.3f}{row['support']:>6}"
        )
    width = max(len(label) for label in report["labels"]) + 2
    lines.append("  confusion (rows: true, columns: predicted)")
    lines.append("  " + " " * width + "".join(f"{label[:10]:>11}" for label in report["labels"]))
    for label, row in zip(report["labels"], report["confusion_matrix"], strict=True):
        lines.append(f"  {label:<{width}}" + "".join(f"{count:>11}" for count in row))
    return "\n".join(lines)
