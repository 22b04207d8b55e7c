"""The model being served, and swapping it for a new one without a restart."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from model import ModelFolderError, StancePredictor
from serve.settings import Settings


class ModelLoadError(ModelFolderError):
    """A folder that could not be loaded; the message says why, in one sentence."""


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """One model folder, loaded once per inference worker.

    Workers never share a predictor: a fast tokenizer raises "Already borrowed" when two threads call it at
    once. The copies are alike, so the first answers questions about the model.
    """

    replicas: tuple[StancePredictor, ...]

    @property
    def metadata(self) -> dict:
        return self.replicas[0].metadata

    @property
    def version(self) -> str | None:
        return self.metadata["version"]

    @property
    def labels(self) -> list[str]:
        return self.replicas[0].labels

    @property
    def model_dir(self) -> Path:
        return self.replicas[0].model_dir


def load_model(model_dir: Path, settings: Settings) -> LoadedModel:
    """Load and warm up one copy of the folder per inference worker; failures become one-sentence errors."""
    try:
        replicas = tuple(load_predictor(model_dir, settings) for _ in range(settings.workers))
    except ModelFolderError as error:
        raise ModelLoadError(str(error)) from None
    except Exception as error:  # a corrupt folder fails deep in transformers or onnxruntime
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelLoadError(f"{model_dir}: cannot load the model ({first_line[:300]})") from None
    return LoadedModel(replicas)


def load_predictor(model_dir: Path, settings: Settings) -> StancePredictor:
    predictor = StancePredictor(
        model_dir, backend=settings.backend, batch_size=settings.inference_batch, threads=settings.inference_threads
    )
    predictor.classify(["warm-up"])  # the first call allocates; no request should pay for it
    return predictor


class ModelSlot:
    """Holds the current model; a reload replaces it in one assignment.

    Requests take `current` once when they arrive and keep that model to the end, so a reload never changes
    the model under a request in flight, and the old model is freed when its last request is done.
    """

    def __init__(self, model_dir: Path, settings: Settings, current: LoadedModel | None = None) -> None:
        self.model_dir = model_dir
        self.settings = settings
        self.current = current
        self._reloading = asyncio.Lock()

    async def load(self, model_dir: Path | None = None) -> LoadedModel | None:
        """Load `model_dir` (default: the folder served now, which training replaces in place) and swap it in.

        Returns the model it replaced. Loading runs on its own thread, so serving goes on meanwhile; if it
        fails, ModelLoadError is raised and the current model stays.
        """
        async with self._reloading:
            folder = model_dir or self.model_dir
            loaded = await asyncio.to_thread(load_model, folder, self.settings)
            previous, self.current, self.model_dir = self.current, loaded, folder
            return previous
