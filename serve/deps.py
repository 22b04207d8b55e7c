"""What the routes share, built by the app's lifespan and handed to them as a dependency."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from serve.batcher import MicroBatcher
from serve.errors import ApiError
from serve.model_slot import LoadedModel, ModelSlot
from serve.observability import Metrics
from serve.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    slot: ModelSlot
    batcher: MicroBatcher
    metrics: Metrics
    logger: logging.Logger

    def model(self) -> LoadedModel:
        """The model to answer with; a request keeps it to the end, whatever a reload does meanwhile."""
        if self.slot.current is None:
            raise ApiError(503, "not_ready", "no model is loaded yet; try again shortly")
        return self.slot.current


async def get_services(request: Request) -> Services:
    # Async on purpose: FastAPI runs a plain `def` dependency on its thread pool, a thread hop per request.
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
