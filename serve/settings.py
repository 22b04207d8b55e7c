"""Server settings, read once from `STANCE_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.backends import available_cores

# A container limited to 2 CPUs may still see all of a big host's cores; copies of the model cost memory.
MAX_DEFAULT_WORKERS = 8


class Settings(BaseSettings):
    """Every limit and knob of the server; e.g. `STANCE_MAX_ITEMS=64 stance serve …`."""

    # An empty variable counts as unset: `STANCE_ADMIN_TOKEN=` must disable reloads, not accept an empty token.
    model_config = SettingsConfigDict(env_prefix="STANCE_", env_ignore_empty=True, frozen=True)

    model_dir: Path = Field(Path("models/default"), description="Model folder served when none is given.")
    backend: Literal["auto", "onnx", "pytorch"] = "auto"
    inference_workers: int | None = Field(
        None,
        ge=1,
        description="Threads running the model, each with its own copy (~80 MB); default: one per core, "
        f"at most {MAX_DEFAULT_WORKERS}.",
    )
    inference_threads: int = Field(1, ge=1, description="Threads inside one model call.")
    inference_batch: int = Field(
        1, ge=1, description="Texts per forward pass; on CPU the int8 graph wastes more on padding than it saves."
    )
    # Small batches keep the tail short: on 2 cores with 32 clients, batches of 4 answer at p99 ~90 ms, batches
    # of 8-16 at ~170-190 ms for ~5% more throughput (benchmarks/load.py); one request is never split.
    max_batch: int = Field(4, ge=1, description="Texts that one micro-batch gathers before it runs.")
    batch_window_ms: float = Field(2.0, ge=0, le=1000, description="How long a batch waits for company.")

    max_text_chars: int = Field(5_000, ge=1, description="Longest statement accepted by /predict.")
    max_items: int = Field(256, ge=1, description="Most statements in one /predict request.")
    max_article_chars: int = Field(100_000, ge=1, description="Longest article accepted by /articles.")
    max_body_bytes: int = Field(1_000_000, ge=1, description="Largest request body, in bytes.")

    admin_token: SecretStr | None = Field(None, description="Bearer token for /admin/reload; unset disables it.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @property
    def workers(self) -> int:
        return self.inference_workers or min(available_cores(), MAX_DEFAULT_WORKERS)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a bad variable stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"STANCE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise SystemExit(f"error: invalid setting: {problems}") from None
