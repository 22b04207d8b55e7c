"""GET /health, /ready, /model and /metrics: is it alive, can it answer, with what, and how is it doing."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serve.deps import ServicesDep
from serve.model_slot import LoadedModel
from serve.schemas import ModelInfo, Status

router = APIRouter(tags=["status"])


@router.get("/health", response_model=Status, response_model_exclude_none=True, summary="Liveness: the process answers")
async def health() -> Status:
    return Status(status="ok")


@router.get(
    "/ready",
    response_model=Status,
    summary="Readiness: a model is loaded",
    responses={503: {"model": Status, "description": "No model loaded yet."}},
)
async def ready(services: ServicesDep) -> Status | JSONResponse:
    if services.slot.current is None:
        return JSONResponse(Status(status="loading").model_dump(), status_code=503)
    return Status(status="ready", model_version=services.slot.current.version)


@router.get("/model", response_model=ModelInfo, summary="The model served: version, labels, metrics")
async def model(services: ServicesDep) -> ModelInfo:
    return model_info(services.model())


def model_info(model: LoadedModel) -> ModelInfo:
    metadata = model.metadata
    return ModelInfo(
        version=metadata["version"],
        trained_at=metadata["trained_at"],
        labels=metadata["labels"],
        backend=metadata["backend"],
        model_dir=str(model.model_dir),
        metrics=metadata["metrics"],
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."}},
)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
