"""POST /admin/reload: serve a newly trained model without a restart; needs the admin token."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serve.deps import ServicesDep
from serve.errors import ApiError
from serve.model_slot import ModelLoadError
from serve.routes.status import model_info
from serve.schemas import ErrorResponse, ReloadRequest, ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"])
bearer = HTTPBearer(auto_error=False, description="The token in STANCE_ADMIN_TOKEN.")


async def require_admin(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    token = services.settings.admin_token
    if token is None:
        raise ApiError(403, "reload_disabled", "reloading is disabled: the server has no STANCE_ADMIN_TOKEN")
    if credentials is None:
        message = "send the admin token as `Authorization: Bearer <token>`"
        raise ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), token.get_secret_value().encode()):
        raise ApiError(403, "forbidden", "the admin token is wrong")


@router.post(
    "/reload",
    response_model=ReloadResponse,
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse, "description": "No token sent."},
        403: {"model": ErrorResponse, "description": "Wrong token, or reloading disabled (no token configured)."},
        422: {"model": ErrorResponse, "description": "The folder did not load; the previous model still serves."},
    },
)
async def reload(services: ServicesDep, body: Annotated[ReloadRequest | None, Body()] = None) -> ReloadResponse:
    """Load the model folder again (training replaces it in place), or the one given, and switch to it.

    Requests already running finish on the old model. If the folder does not load, nothing changes.
    """
    folder = Path(body.model_dir) if body is not None and body.model_dir else None
    try:
        previous = await services.slot.load(folder)
    except ModelLoadError as error:
        services.metrics.reloads.labels("failed").inc()
        still = f"version {services.model().version} is still served"
        raise ApiError(422, "model_load_failed", f"{error}; {still}") from None
    current = services.model()
    versions = {"previous": previous.version if previous else None, "version": current.version}
    services.metrics.reloads.labels("ok").inc()
    services.metrics.serving(versions["version"])
    services.logger.info("model reloaded", extra={"fields": versions})
    return ReloadResponse(previous_version=versions["previous"], model=model_info(current))
