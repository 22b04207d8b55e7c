from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, load_config, resolve_base_model, resolve_path, resolve_precision


def test_defaults_then_file_then_command_line(tmp_path: Path) -> None:
    config_file = tmp_path / "run.toml"
    config_file.write_text('epochs = 3\nlearning_rate = 1e-4\noutput = "models/from-file"\n', encoding="utf-8")
    config = load_config(config_file, {"epochs": 5, "seed": None})
    assert config.epochs == 5  # the command line wins
    assert config.learning_rate == 1e-4 and config.output == "models/from-file"  # the file beats the defaults
    assert config.seed == 42  # an option not given (None) leaves the setting alone


def test_resolved_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = load_config(overrides={"epochs": 2})
    saved = tmp_path / "training_config.toml"
    saved.write_text(config.to_toml(), encoding="utf-8")
    assert load_config(saved) == config


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("epochz = 3\n", "unknown setting 'epochz'"),
        ('epochs = "three"\n', "setting 'epochs' should be int"),
        ("class_weights = 1\n", "setting 'class_weights' should be bool"),
        ("epochs = 0\n", "'epochs' must be at least 1"),
        ("epochs = [\n", "not valid TOML"),
        ('precision = "fp16"\n', "'precision' must be one of auto, bf16, fp32"),
        ('head_init = "zeros"\n', "'head_init' must be one of probe, random"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path)


def test_corpus_paths_and_base_models_resolve(tmp_path: Path) -> None:
    assert resolve_path("corpus:test").name == "test.jsonl" and resolve_path("corpus:test").parent.name == "ceasefire"
    assert (resolve_base_model("") / "model.safetensors").is_file()
    with pytest.raises(ConfigError, match="not a model folder"):
        resolve_base_model(str(tmp_path))
    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="without weights"):
        resolve_base_model(str(tmp_path))


def test_precision_auto_resolves_to_a_concrete_one() -> None:
    assert resolve_precision("auto") in ("bf16", "fp32")  # which one depends on the processor
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
