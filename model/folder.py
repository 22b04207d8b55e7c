"""What a model folder holds, in one place: training writes these names and `model/` reads them."""

from __future__ import annotations

import json
from pathlib import Path

STANCE_FILE = "stance.json"  # labels, temperature, version, training date, max length
METRICS_FILE = "metrics.json"
CONFIG_FILE = "training_config.toml"
ONNX_DIR = "onnx"
ONNX_INT8_FILE = "model.int8.onnx"


class ModelFolderError(ValueError):
    """A path that is not a usable stance model folder, said in one sentence."""


def read_stance_info(model_dir: Path) -> dict:
    """The folder's stance.json; a clear error if the folder is not a stance model."""
    if not model_dir.is_dir():
        raise ModelFolderError(f"{model_dir}: no such model folder")
    path = model_dir / STANCE_FILE
    if not path.is_file():
        raise ModelFolderError(f"{model_dir}: not a stance model folder (no {STANCE_FILE}; train one with `stance train`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFolderError(f"{path}: unreadable ({STANCE_FILE} is not valid JSON)") from None


def read_metrics(model_dir: Path) -> dict:
    path = model_dir / METRICS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def onnx_int8_path(model_dir: Path) -> Path:
    return model_dir / ONNX_DIR / ONNX_INT8_FILE
