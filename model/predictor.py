"""The one place that loads a stance model folder and predicts, in the spirit of scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from model.backends import Backend, OnnxBackend, TorchBackend
from model.folder import ModelFolderError, onnx_int8_path, read_metrics, read_stance_info

BACKENDS = ("auto", "onnx", "pytorch")


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits / temperature, stable for large logits."""
    z = logits / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class StancePredictor:
    """Labels statements with a fine-tuned model folder; scores are temperature-calibrated probabilities.

    Texts longer than the model's `max_length` word pieces are truncated, and flagged as such by
    `classify`: a statement that long is really a document, and `/articles` splits documents into
    statements, which is the honest way to label one. Averaging windows would blend several stances.
    """

    def __init__(
        self, model_dir: str | Path, backend: str = "auto", batch_size: int = 64, threads: int | None = None
    ) -> None:
        self.model_dir = Path(model_dir)
        info = read_stance_info(self.model_dir)
        if backend not in BACKENDS:
            raise ModelFolderError(f"unknown backend {backend!r} (expected one of: {', '.join(BACKENDS)})")
        self.labels: list[str] = list(info["labels"])
        self.temperature = float(info.get("temperature", 1.0))
        self.max_length = int(info.get("max_length", 256))
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self.backend = self._open_backend(backend, threads)
        self.metadata = {
            "version": info.get("version"),
            "trained_at": info.get("trained_at"),
            "base_model": info.get("base_model"),
            "labels": self.labels,
            "temperature": self.temperature,
            "max_length": self.max_length,
            "backend": self.backend.name,
            "metrics": read_metrics(self.model_dir),
        }

    def _open_backend(self, backend: str, threads: int | None) -> Backend:
        onnx_path = onnx_int8_path(self.model_dir)
        if backend == "onnx" and not onnx_path.is_file():
            raise ModelFolderError(f"{self.model_dir}: no ONNX graph (run `stance export --model {self.model_dir}`)")
        if backend in ("auto", "onnx") and onnx_path.is_file():
            return OnnxBackend(onnx_path, threads)
        return TorchBackend(self.model_dir, threads)

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits for each text, and whether each text was truncated; in the order given."""
        order = self._by_token_count(texts)
        logits = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        truncated = np.zeros(len(texts), dtype=bool)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            encoded = self.tokenizer(
                [texts[i] for i in rows], padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
            )
            logits[rows] = self.backend.logits(dict(encoded))
            truncated[rows] = [bool(e.overflowing) for e in encoded.encodings]
        return logits, truncated

    def _by_token_count(self, texts: Sequence[str]) -> np.ndarray:
        """Text indices from fewest word pieces to most, so each batch pads to a length close to its own.

        Sorting by character count instead left batches padded to 43.6 word pieces on average where the texts held
        32.8 (a few texts pack many pieces into few characters); by word pieces it is 34.1. The extra tokenizer pass
        costs ~3% of the time that the padding cost.
        """
        if len(texts) <= self.batch_size:  # one batch: nothing to group
            return np.arange(len(texts))
        lengths = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_length, return_length=True, return_attention_mask=False
        )["length"]
        return np.argsort(lengths, kind="stable")

    def scores(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from logits: softmax at the temperature fitted on dev."""
        return softmax(logits, self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of `labels`."""
        return self.scores(self.logits(texts)[0])

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def classify(self, texts: Sequence[str]) -> list[dict]:
        """For each text: its label, the score of every label, and whether it was truncated."""
        logits, truncated = self.logits(texts)
        probabilities = self.scores(logits)
        return [
            {
                "label": self.labels[int(row.argmax())],
                "scores": {label: float(p) for label, p in zip(self.labels, row, strict=True)},
                "truncated": bool(cut),
            }
            for row, cut in zip(probabilities, truncated, strict=True)
        ]
