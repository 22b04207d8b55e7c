"""Two ways to turn a padded batch of token ids into logits: PyTorch, and ONNX Runtime on an int8 graph."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import onnxruntime


class Backend(Protocol):
    name: str

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray: ...


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0))


class TorchBackend:
    name = "pytorch"

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        self._torch = torch
        if threads:
            torch.set_num_threads(threads)
        self._model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        self._input_names = set(inspect.signature(self._model.forward).parameters)

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {k: self._torch.from_numpy(v) for k, v in batch.items() if k in self._input_names}
        with self._torch.inference_mode():
            return self._model(**feeds).logits.float().numpy()


def session_options(threads: int | None = None) -> onnxruntime.SessionOptions:
    """One intra-op thread per core: a batch's matrix products split well, and ops run one after another."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cores()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxBackend:
    name = "onnx-int8"
    # ORT's own SkipLayerNormalization kernel is 3x slower on CPU than the Add + LayerNormalization that
    # `model.export` leaves in the graph; this fusion would put it back at load time.
    disabled_optimizers = ("SkipLayerNormFusion",)

    def __init__(self, onnx_path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self._session = ort.InferenceSession(
            str(onnx_path),
            session_options(threads),
            providers=["CPUExecutionProvider"],
            disabled_optimizers=self.disabled_optimizers,
        )
        self._input_names = [i.name for i in self._session.get_inputs()]

    def logits(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {name: batch[name].astype(np.int64, copy=False) for name in self._input_names}
        return self._session.run(["logits"], feeds)[0]
