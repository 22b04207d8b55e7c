"""Every error is a JSON body `{"error": code, "message": sentence, "details": [...]}`, never a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from serve.observability import Metrics
from serve.schemas import ErrorDetail, ErrorResponse
from serve.settings import get_settings

# Pydantic puts union members and tags in error locations (`function-after[not_blank(), str]`); people don't.
FIELD_NAME = re.compile(r"^[A-Za-z_]\w*$")
# The refusals that come from the framework (or BodyLimit) rather than from our own ApiError.
HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


class ApiError(Exception):
    """An error the API answers on purpose, with its status, code and one-sentence message."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers


def where(location: Sequence[Any]) -> str:
    """`('body', 'many-texts', 'texts', 3)` → `body.texts[3]`: union tags and member names dropped."""
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif FIELD_NAME.match(part):
            parts.append(f".{part}")
    return "".join(parts).lstrip(".") or "body"


def validation_details(errors: Sequence[dict]) -> list[ErrorDetail]:
    details = []
    # `inputs` may be a string or a list: for `["a", ""]` the empty string says more than "not a string".
    for error in sorted(errors, key=lambda error: error["type"].endswith("_type")):
        location, message = where(error["loc"]), error["msg"].removeprefix("Value error, ")
        if error["type"] == "json_invalid":  # its location is a character offset, not a field
            location, at = "body", error["loc"][-1]
            message = f"invalid JSON at character {at}: {error.get('ctx', {}).get('error', 'cannot be parsed')}"
        details.append(ErrorDetail(where=location, message=message))
    return details


def install_error_handlers(app: FastAPI, metrics: Metrics, logger: logging.Logger) -> None:
    def answer(
        status: int, error: str, message: str, details: Sequence[ErrorDetail] = (), headers: dict | None = None
    ) -> JSONResponse:
        metrics.errors.labels(error).inc()
        body = ErrorResponse(error=error, message=message, details=list(details))
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        summary = f"{details[0].where}: {details[0].message}" if details else "the request is not valid"
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        return answer(422, "invalid_request", summary + more, details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals (unknown path, wrong method, unreadable or oversized body)."""
        code = HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        return answer(exc.status_code, code, framework_message(request, exc), headers=exc.headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return answer(exc.status, exc.error, exc.message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Uvicorn logs the traceback after this answer; the client never sees it.
        logger.error("unhandled error", extra={"fields": {"path": request.url.path, "error": repr(exc)[:300]}})
        return answer(500, "internal_error", "the server failed to answer this request; the error is logged")


def framework_message(request: Request, exc: HTTPException) -> str:
    match exc.status_code:
        case 400:  # FastAPI's only 400: a body that is not text in the expected encoding
            return "the body could not be read: it must be UTF-8 JSON (or UTF-8 text where text/plain is accepted)"
        case 404:
            return f"nothing at {request.url.path}; the API is described at /docs"
        case 405:
            return f"{request.method} is not allowed on {request.url.path}"
        case 413:
            return f"the request body is larger than the limit of {get_settings().max_body_bytes} bytes"
    return str(exc.detail)
