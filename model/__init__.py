"""Load a stance model folder and label statements fast."""

from model.folder import ModelFolderError
from model.predictor import StancePredictor

__all__ = ["ModelFolderError", "StancePredictor"]
