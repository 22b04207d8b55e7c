"""The linear probe that the fine-tuning starts from, on the real encoder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from data.records import GUIDE_LABELS
from model.predictor import softmax
from tests.conftest import small_labelled_set
from training.config import HEAD_INITS, load_config, resolve_base_model
from training.data import load_training_data
from training.metrics import label_ids
from training.probe import classifier_layer, fit_probe, head_inputs, set_head
from training.train import build_trainer


@pytest.mark.parametrize("labels", [list(GUIDE_LABELS), ["support", "oppose"]], ids=["four labels", "two labels"])
def test_the_model_with_the_probe_as_head_gives_the_probes_probabilities(labels: list[str]) -> None:
    base = resolve_base_model("")
    records = [r for r in small_labelled_set(10) if r["label"] in labels]
    texts, y = [r["text"] for r in records], label_ids(records, labels)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=len(labels))
    tokenizer = AutoTokenizer.from_pretrained(base)
    features = head_inputs(model, tokenizer, texts, max_length=64)
    probe, dev_f1 = fit_probe((features, y), (features, y), balanced=True)
    assert dev_f1 > 0.9  # a probe scored on its own training statements: it fits them

    set_head(classifier_layer(model), probe)
    logits = model(**tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")).logits
    np.testing.assert_allclose(softmax(logits.detach().numpy()), probe.predict_proba(features), atol=1e-4)


def test_training_starts_from_the_probe_when_asked(tiny_data: Path, tmp_path: Path) -> None:
    settings = dict(data=[str(tiny_data)], dev="", eval=[], output=str(tmp_path / "model"), max_length=48)
    config = load_config(overrides=settings)
    data = load_training_data(config)
    base = resolve_base_model(config.base_model)
    heads = {
        init: classifier_layer(build_trainer(replace(config, head_init=init), data, base, tmp_path / init).model)
        for init in HEAD_INITS
    }
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=len(data.labels))
    tokenizer = AutoTokenizer.from_pretrained(base)

    def features(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        return head_inputs(model, tokenizer, [r["text"] for r in records], 48), label_ids(records, data.labels)

    expected, _ = fit_probe(features(data.train), features(data.dev), balanced=config.class_weights)
    np.testing.assert_allclose(heads["probe"].weight.detach().numpy(), expected.coef_, atol=1e-5)
    assert not np.allclose(heads["random"].weight.detach().numpy(), expected.coef_, atol=1e-2)
