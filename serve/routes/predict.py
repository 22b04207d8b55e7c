"""POST /predict: label one statement or many, in the project's shape or the Hugging Face one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from serve.deps import ServicesDep
from serve.schemas import HFRequest, HFResponse, ManyTexts, OneText, PredictRequest, PredictResponse

router = APIRouter(tags=["predict"])

DESCRIPTION = """\
Three request shapes:

* `{"text": "…"}` and `{"texts": ["…", …]}` answer
  `{"model_version", "predictions": [{label, scores, truncated}]}`;
* `{"inputs": "…" | ["…"], "parameters": {"top_k": k}}`, the Hugging Face Inference API's text-classification
  request, answers its shape: one list of `{label, score}` per input, most probable first. The model version is
  in the `X-Model-Version` header.
"""


@router.post(
    "/",
    response_model=PredictResponse | HFResponse,
    summary="Predict (Hugging Face Inference API root)",
    description="The same as `POST /predict`, at the root, where `huggingface_hub.InferenceClient(url)` posts.",
)
@router.post("/predict", response_model=PredictResponse | HFResponse, description=DESCRIPTION)
async def predict(
    body: Annotated[PredictRequest, Body()], request: Request, response: Response, services: ServicesDep
) -> dict | list[list[dict]]:
    model = services.model()
    texts = statements_of(body)
    request.state.items = len(texts)
    results = await services.batcher.classify(model, texts)
    response.headers["X-Model-Version"] = str(model.version)
    if isinstance(body, HFRequest):
        return hugging_face_shape(results, body.parameters.top_k if body.parameters else None)
    return {"model_version": model.version, "predictions": results}


def statements_of(body: OneText | ManyTexts | HFRequest) -> list[str]:
    match body:
        case OneText(text=text) | HFRequest(inputs=str() as text):
            return [text]
        case ManyTexts(texts=texts) | HFRequest(inputs=texts):
            return texts


def hugging_face_shape(results: list[dict], top_k: int | None) -> list[list[dict]]:
    """Each result as the Inference API gives it: `[{"label", "score"}, …]`, most probable first."""
    ranked = (sorted(result["scores"].items(), key=lambda pair: pair[1], reverse=True) for result in results)
    return [[{"label": label, "score": score} for label, score in scores[:top_k]] for scores in ranked]
