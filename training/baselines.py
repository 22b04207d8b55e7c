"""Two simple models to measure the fine-tuned one against, trained on the same data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import make_pipeline


def _logistic_regression() -> LogisticRegressionCV:
    # The regularisation strength is chosen by cross-validation on the training data, so the
    # baselines are as strong as these model families get here, not a straw man.
    # L2 penalty (l1_ratio 0) and accuracy as the selection score, said explicitly: they are today's
    # defaults, which scikit-learn announces it will change.
    return LogisticRegressionCV(
        Cs=[0.1, 0.3, 1, 3, 10, 30], l1_ratios=(0.0,), scoring="accuracy", cv=5, max_iter=5000,
        class_weight="balanced", use_legacy_attributes=False,
    )  # fmt: skip


def fit_tfidf(texts: Sequence[str], y: np.ndarray):
    """Word 1-2 gram TF-IDF + logistic regression; has `predict_proba(texts)`."""
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1), _logistic_regression())
    return model.fit(list(texts), y)


class FrozenEncoderBaseline:
    """Mean-pooled embeddings of a frozen encoder + logistic regression."""

    def __init__(self, encoder_dir: str | Path, batch_size: int = 64) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        self.encoder = AutoModel.from_pretrained(encoder_dir).eval()
        self.batch_size = batch_size
        self.classifier = _logistic_regression()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=128,
                    return_tensors="pt",
                )
                hidden = self.encoder(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                chunks.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
        return np.concatenate(chunks)

    def fit(self, texts: Sequence[str], y: np.ndarray) -> FrozenEncoderBaseline:
        self.classifier.fit(self.embed(texts), y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.embed(texts))
