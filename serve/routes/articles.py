"""POST /articles: split a news article into statements, attribute and label each, and sum up per speaker."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Request

from serve.articles import split_statements, summarize_speakers
from serve.deps import ServicesDep
from serve.schemas import LIMITS, ArticleRequest, ArticleResponse, ArticleText

router = APIRouter(tags=["articles"])

PLAIN_TEXT_BODY = {
    "requestBody": {
        "content": {"text/plain": {"schema": {"type": "string", "minLength": 1, "maxLength": LIMITS.max_article_chars}}}
    }
}


@router.post(
    "/articles",
    response_model=ArticleResponse,
    openapi_extra=PLAIN_TEXT_BODY,
    description='The article as `text/plain`, or as JSON `{"text": "…"}`. Statements come back in order, '
    "with `article[start:end] == text`; `speakers` sums them up per speaker named.",
)
async def label_article(
    body: Annotated[ArticleRequest | ArticleText, Body()], request: Request, services: ServicesDep
) -> dict:
    # A text/plain body reaches validation as bytes: the bare ArticleText decodes them, refusing non-UTF-8.
    article = body if isinstance(body, str) else body.text
    model = services.model()
    statements = await asyncio.to_thread(split_statements, article)  # pure Python: keep it off the event loop
    request.state.items = len(statements)
    results = await services.batcher.classify(model, [s.text for s in statements]) if statements else []
    return {
        "model_version": model.version,
        "statements": [asdict(statement) | result for statement, result in zip(statements, results, strict=True)],
        "speakers": summarize_speakers(statements, results, model.labels),
    }
