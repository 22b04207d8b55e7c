"""Evaluate a model folder on labelled data, optionally beside baselines trained on its training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data.records import label_order, read_labelled, read_many
from model.folder import CONFIG_FILE
from model.predictor import StancePredictor
from training.baselines import FrozenEncoderBaseline, fit_tfidf
from training.config import load_config, resolve_base_model, resolve_path
from training.data import load_training_data
from training.metrics import label_ids, score


def evaluate(model_dir: str | Path, data_file: str | Path, baselines: bool = False, backend: str = "auto") -> dict:
    """Scores of the model on `data_file`; with `baselines`, theirs too under `report['baselines']`."""
    predictor = StancePredictor(model_dir, backend=backend)
    records = read_labelled(data_file, known_labels=predictor.labels)
    texts = [r["text"] for r in records]
    y = label_ids(records, predictor.labels)
    report = score(y, predictor.predict_proba(texts), predictor.labels)
    report["model"] = predictor.metadata["version"]
    report["backend"] = predictor.backend.name
    if baselines:
        report["baselines"] = baseline_scores(Path(model_dir), texts, y, predictor.labels)
    return report


def baseline_scores(model_dir: Path, texts: list[str], y: np.ndarray, labels: list[str]) -> dict:
    """TF-IDF and frozen-encoder baselines, fitted on the data the model was trained on."""
    config = load_config(model_dir / CONFIG_FILE)
    train = load_training_data(config).train
    train_y = label_ids(train, labels)
    train_texts = [r["text"] for r in train]
    encoder = resolve_base_model(config.base_model)
    return {
        "tfidf_logreg": score(y, fit_tfidf(train_texts, train_y).predict_proba(texts), labels),
        "frozen_encoder_logreg": score(
            y, FrozenEncoderBaseline(encoder).fit(train_texts, train_y).predict_proba(texts), labels
        ),
    }


def tfidf_baseline(train_files: list[str], eval_file: str) -> dict:
    """The corpus learnability check: TF-IDF + logistic regression trained on `train_files`."""
    train = read_many(resolve_path(f) for f in train_files)
    labels = label_order(r["label"] for r in train)
    test = read_labelled(resolve_path(eval_file), known_labels=labels)
    model = fit_tfidf([r["text"] for r in train], label_ids(train, labels))
    return score(label_ids(test, labels), model.predict_proba([r["text"] for r in test]), labels)
