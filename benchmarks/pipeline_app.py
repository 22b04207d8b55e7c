"""The comparison for benchmarks/load.py: the plainest server, `transformers.pipeline` called per request.

Run: STANCE_BENCH_MODEL=DIR python -m uvicorn --app-dir benchmarks pipeline_app:app
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

classifier = pipeline("text-classification", model=os.environ["STANCE_BENCH_MODEL"], device="cpu")
app = FastAPI()


class Statement(BaseModel):
    text: str


@app.get("/ready")
def ready() -> dict:
    return {"status": "ready"}


@app.post("/predict")
def predict(statement: Statement) -> list[dict]:
    return classifier(statement.text, top_k=None)
