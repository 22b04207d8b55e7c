"""The FastAPI app: settings, a lifespan that loads the model and starts the batcher, routers, and `run`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from serve.batcher import MicroBatcher
from serve.deps import Services
from serve.errors import install_error_handlers
from serve.middleware import BodyLimit, RequestLog
from serve.model_slot import LoadedModel, ModelSlot, load_model
from serve.observability import Metrics, json_logger
from serve.routes import admin, articles, predict, status
from serve.settings import get_settings

DESCRIPTION = """\
Labels statements about the Russia–Ukraine war with their stance on a ceasefire.
Labels and their meaning come from the model served (see `GET /model`).
Every error is JSON: `{"error": code, "message": sentence, "details": [{where, message}]}`.
"""


def create_app(model_dir: Path | None = None, loaded: LoadedModel | None = None) -> FastAPI:
    """The app serving `model_dir` (default: STANCE_MODEL_DIR), with limits and knobs from STANCE_* variables.

    `loaded` is that folder already loaded; without it the app loads the folder as it starts.
    """
    settings = get_settings()
    metrics = Metrics()
    logger = json_logger("stance", settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        slot = ModelSlot(model_dir or settings.model_dir, settings, loaded)
        if slot.current is None:
            await slot.load()
        batcher = MicroBatcher(
            settings.workers, settings.max_batch, settings.batch_window_ms / 1000, metrics.observe_batch
        )
        batcher.start()
        app.state.services = Services(settings, slot, batcher, metrics, logger)
        # What start-up loaded lives as long as the process. Out of the cyclic collector's way, a full pass
        # costs nothing instead of ~60 ms over ~250k objects, paid by whichever request is unlucky.
        gc.freeze()
        metrics.serving(slot.current.version)
        serving = {"model_dir": str(slot.model_dir), "version": slot.current.version, "workers": settings.workers}
        logger.info("serving", extra={"fields": serving})
        yield
        await batcher.stop()

    app = FastAPI(
        title="ceasefire-stance", description=DESCRIPTION, version=version("ceasefire-stance"), lifespan=lifespan
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog, metrics=metrics, logger=logger)  # added last: outermost, so it sees every answer
    install_error_handlers(app, metrics, logger)
    for routes in (predict, articles, status, admin):
        app.include_router(routes.router)
    return app


def run(model_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `model_dir` until interrupted.

    The model loads before uvicorn starts, so a folder that cannot be loaded fails here with one line
    (ModelLoadError) instead of uvicorn's start-up traceback.
    """
    settings = get_settings()
    loaded = load_model(Path(model_dir), settings)
    app = create_app(Path(model_dir), loaded)
    # Our middleware writes one JSON line per request, so uvicorn's access log would only repeat it.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=settings.log_level)
