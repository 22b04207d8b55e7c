"""What the API accepts and returns. Limits come from the settings, so the OpenAPI schema states them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from serve.settings import get_settings

LIMITS = get_settings()


def not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only whitespace")
    return text


Text = Annotated[
    str,
    Field(min_length=1, max_length=LIMITS.max_text_chars, examples=["The guns must go silent."]),
    AfterValidator(not_blank),
]
Texts = Annotated[list[Text], Field(min_length=1, max_length=LIMITS.max_items)]


class Strict(BaseModel):
    """Unknown fields are an error, and no type is coerced: `{"text": 5}` is refused, not labelled "5"."""

    model_config = ConfigDict(extra="forbid", strict=True)


class OneText(Strict):
    text: Text


class ManyTexts(Strict):
    texts: Texts


class HFParameters(Strict):
    top_k: int | None = Field(None, ge=1, description="Return only the k most probable labels.")
    function_to_apply: Literal["softmax"] | None = Field(
        None, description="Scores are always the calibrated softmax; other functions are refused."
    )


class HFRequest(Strict):
    """The Hugging Face Inference API's text-classification request."""

    inputs: Text | Texts
    parameters: HFParameters | None = None


# Tags are not identifiers on purpose: error locations (`body.one-text.text`) drop them.
SHAPE_TAGS = {"text": "one-text", "texts": "many-texts", "inputs": "hugging-face"}


def request_shape(body: Any) -> str | None:
    """Which request shape a body is, by the field that names it."""
    if isinstance(body, dict):
        return next((tag for key, tag in SHAPE_TAGS.items() if key in body), None)
    return None


PredictRequest = Annotated[
    Annotated[OneText, Tag("one-text")]
    | Annotated[ManyTexts, Tag("many-texts")]
    | Annotated[HFRequest, Tag("hugging-face")],
    Discriminator(
        request_shape,
        custom_error_type="request_shape",
        custom_error_message="the body must be a JSON object (Content-Type: application/json) "
        "with one of 'text', 'texts' or 'inputs'",
    ),
]


class Prediction(BaseModel):
    label: str = Field(description="The most probable label.")
    scores: dict[str, float] = Field(description="Calibrated probability of every label; they sum to 1.")
    truncated: bool = Field(description="The text was longer than the model reads and was cut.")


class PredictResponse(BaseModel):
    model_version: str | None
    predictions: list[Prediction]


class LabelScore(BaseModel):
    label: str
    score: float


HFResponse = list[list[LabelScore]]


ArticleText = Annotated[str, Field(min_length=1, max_length=LIMITS.max_article_chars), AfterValidator(not_blank)]


class ArticleRequest(Strict):
    text: ArticleText


class ArticleStatement(Prediction):
    text: str
    start: int = Field(description="Character offset in the article: `article[start:end] == text`.")
    end: int
    kind: Literal["quote", "sentence"] = Field(description="A direct quote, or a sentence of the report.")
    speaker: str | None = Field(description="Who the article attributes it to, when it names someone.")


class SpeakerSummary(BaseModel):
    speaker: str
    statements: int
    stance: str = Field(description="The label with the highest mean score over the speaker's statements.")
    label_counts: dict[str, int]
    mean_scores: dict[str, float]


class ArticleResponse(BaseModel):
    model_version: str | None
    statements: list[ArticleStatement]
    speakers: list[SpeakerSummary]


class ReloadRequest(Strict):
    model_dir: str | None = Field(None, description="Model folder to load; default: the folder served now.")


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    version: str | None
    trained_at: str | None
    labels: list[str]
    backend: str
    model_dir: str
    metrics: dict[str, Any]


class ReloadResponse(BaseModel):
    previous_version: str | None
    model: ModelInfo


class Status(BaseModel):
    status: str
    model_version: str | None = None


class ErrorDetail(BaseModel):
    where: str = Field(description="The part of the request at fault, e.g. `body.texts[3]`.")
    message: str


class ErrorResponse(BaseModel):
    error: str = Field(description="A stable code: invalid_request, body_too_large, unauthorized, …")
    message: str = Field(description="What is wrong, in one sentence.")
    details: list[ErrorDetail] = []
