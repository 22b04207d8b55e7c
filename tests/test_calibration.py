from __future__ import annotations

import numpy as np

from model.predictor import softmax
from training.calibration import expected_calibration_error, fit_temperature


def sample_labels(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    cumulative = probabilities.cumsum(axis=1)
    return (rng.random((len(probabilities), 1)) > cumulative).sum(axis=1)


def test_temperature_scaling_recovers_the_true_temperature() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(20000, 4))
    labels = sample_labels(rng, softmax(true_logits))
    overconfident = true_logits * 2.5  # what an over-trained network does
    assert abs(fit_temperature(overconfident, labels) - 2.5) < 0.1


def test_ece_is_small_when_calibrated_and_large_when_overconfident() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, size=(20000, 4))
    labels = sample_labels(rng, softmax(logits))
    calibrated = expected_calibration_error(softmax(logits), labels)
    overconfident = expected_calibration_error(softmax(logits * 3), labels)
    assert calibrated < 0.02
    assert overconfident > 0.1
