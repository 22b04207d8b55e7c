"""Training and evaluation end to end with the real encoder, and every way a run can go wrong."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from data.records import GUIDE_LABELS
from model.predictor import StancePredictor
from tests.conftest import REPO, small_labelled_set, write_lines
from training.config import load_config
from training.evaluate import evaluate
from training.folder import staging_path

pytestmark = pytest.mark.slow
STANCE = [sys.executable, "-m", "cli"]


def stance(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*STANCE, *args], cwd=REPO, capture_output=True, text=True, timeout=600, **kwargs)


def quick_config(data: Path, output: Path, **overrides):
    settings = dict(data=[str(data)], dev="", eval=[], output=str(output), epochs=1, max_length=48, batch_size=16)
    return load_config(overrides=settings | overrides)


def test_model_folder_is_complete_and_loads_with_plain_transformers(tiny_model: Path) -> None:
    stance_info = json.loads((tiny_model / "stance.json").read_text())
    assert stance_info["labels"] == list(GUIDE_LABELS)
    assert stance_info["temperature"] > 0
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training_config.toml", "onnx/model.int8.onnx"):
        assert (tiny_model / name).is_file(), name
        assert (tiny_model / name).stat().st_mode & 0o004, f"{name} is readable by a server running as another user"
    for image in ("confusion_matrix.png", "training_curve.png"):
        assert (tiny_model / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["dev"]["n"] > 0 and 0 <= metrics["dev"]["macro_f1"] <= 1
    assert set(metrics["calibration"]) == {"temperature", "dev_ece_before", "dev_ece_after"}
    card = (tiny_model / "README.md").read_text()
    assert stance_info["version"] in card
    assert f'StancePredictor("{tiny_model}")' in card  # the folder as published, not the staging one it was written in
    saved = tomllib.loads((tiny_model / "training_config.toml").read_text())
    assert saved["precision"] in ("bf16", "fp32")  # "auto" is saved as what it chose, so a rerun repeats it
    assert not staging_path(tiny_model).exists()

    from transformers import pipeline

    result = pipeline("text-classification", model=str(tiny_model))("Stop the shelling and sign the truce today.")
    assert result[0]["label"] in GUIDE_LABELS and 0 < result[0]["score"] <= 1


def test_evaluate_command_prints_a_table_and_writes_the_report(tiny_model: Path, tiny_data: Path, tmp_path: Path):
    report_path = tmp_path / "report.json"
    done = stance("evaluate", "--model", str(tiny_model), "--data", str(tiny_data / "dev.jsonl"), "--report", str(report_path))
    assert done.returncode == 0, done.stderr
    assert "macro-F1" in done.stdout and "confusion" in done.stdout
    report = json.loads(report_path.read_text())
    n = len((tiny_data / "dev.jsonl").read_text().splitlines())
    assert report["n"] == n
    assert report["labels"] == list(GUIDE_LABELS)
    assert sum(map(sum, report["confusion_matrix"])) == n
    assert set(report["per_label"]) == set(GUIDE_LABELS)
    assert 0 <= report["macro_f1"] <= 1 and 0 <= report["accuracy"] <= 1


def test_baselines_are_scored_on_the_same_data(tiny_model: Path, tiny_data: Path) -> None:
    report = evaluate(tiny_model, tiny_data / "dev.jsonl", baselines=True)
    assert set(report["baselines"]) == {"tfidf_logreg", "frozen_encoder_logreg"}
    for scores in report["baselines"].values():
        assert scores["n"] == report["n"] and 0 <= scores["macro_f1"] <= 1


def test_two_runs_with_one_seed_give_the_same_model(tiny_data: Path, tmp_path: Path) -> None:
    from training.train import fit

    first = load_file(fit(quick_config(tiny_data, tmp_path / "a", export_onnx=False)) / "model.safetensors")
    second = load_file(fit(quick_config(tiny_data, tmp_path / "b", export_onnx=False)) / "model.safetensors")
    assert first.keys() == second.keys()
    assert all((first[k] == second[k]).all() for k in first)


def one_line_failure(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_training_data(tmp_path: Path) -> None:
    done = stance("train", "--data", str(tmp_path / "nowhere.jsonl"), "--output", str(tmp_path / "m"))
    one_line_failure(done, "no such file")
    assert not (tmp_path / "m").exists()


def test_label_with_too_few_examples(tmp_path: Path) -> None:
    records = small_labelled_set(6)[:-4]  # neutral keeps 2
    data = write_lines(tmp_path / "few.jsonl", [json.dumps(r) for r in records])
    done = stance("train", "--data", str(data), "--output", str(tmp_path / "m"))
    one_line_failure(done, "label 'neutral' has only 2 training example(s)")
    assert not (tmp_path / "m").exists()


def test_base_model_that_is_not_a_model(tiny_data: Path, tmp_path: Path) -> None:
    done = stance("train", "--data", str(tiny_data), "--base-model", str(tmp_path), "--output", str(tmp_path / "m"))
    one_line_failure(done, "not a model folder")
    assert not (tmp_path / "m").exists()


def test_output_path_that_is_a_file(tiny_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.write_text("keep me")
    done = stance("train", "--data", str(tiny_data), "--output", str(target))
    one_line_failure(done, "is a file")
    assert target.read_text() == "keep me"


def test_unknown_label_at_evaluation(tiny_model: Path, tmp_path: Path) -> None:
    data = write_lines(tmp_path / "eval.jsonl", [json.dumps({"text": "Hold the line.", "label": "hawkish"})])
    report = tmp_path / "report.json"
    done = stance("evaluate", "--model", str(tiny_model), "--data", str(data), "--report", str(report))
    one_line_failure(done, "unknown label 'hawkish'")
    assert not report.exists()


def test_evaluating_a_folder_that_is_not_a_model(tiny_data: Path, tmp_path: Path) -> None:
    done = stance("evaluate", "--model", str(tmp_path), "--data", str(tiny_data / "dev.jsonl"))
    one_line_failure(done, "not a stance model folder")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_the_previous_model(tiny_model: Path, tiny_data: Path, tmp_path: Path, signum) -> None:
    output = tmp_path / "model"
    shutil.copytree(tiny_model, output)
    before = (output / "stance.json").read_text()
    run = subprocess.Popen(
        [*STANCE, "train", "--data", str(tiny_data), "--output", str(output), "--epochs", "50"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (staging_path(output) / "checkpoints").exists():  # the first epoch has been saved: mid-training
        assert run.poll() is None and time.monotonic() < deadline, run.stdout.read() if run.stdout else ""
        time.sleep(0.2)
    run.send_signal(signum)
    log, _ = run.communicate(timeout=60)
    assert run.returncode == 130, log
    assert "interrupted: nothing was written" in log
    assert (output / "stance.json").read_text() == before
    assert not staging_path(output).exists()


def test_failure_after_training_keeps_the_previous_model(
    tiny_model: Path, tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.train

    output = tmp_path / "model"
    shutil.copytree(tiny_model, output)
    before = (output / "model.safetensors").read_bytes()

    def broken_export(folder: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(training.train, "export_onnx", broken_export)
    with pytest.raises(OSError, match="disk full"):
        training.train.fit(quick_config(tiny_data, output))
    assert (output / "model.safetensors").read_bytes() == before
    assert not staging_path(output).exists()


def test_calibration_fits_the_fp32_logits_the_model_serves(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bf16 run autocasts the model's forward; the temperature must fit the logits served, in fp32."""
    import training.train

    seen = {}
    write_folder = training.train.write_folder

    def spy(folder, trainer, config, data, base, dev_prediction, train_seconds):
        seen["logits"], seen["texts"] = dev_prediction.predictions, [r["text"] for r in data.dev]
        write_folder(folder, trainer, config, data, base, dev_prediction, train_seconds)

    monkeypatch.setattr(training.train, "write_folder", spy)
    output = training.train.fit(quick_config(tiny_data, tmp_path / "bf16", precision="bf16", export_onnx=False))
    served = StancePredictor(output, backend="pytorch").logits(seen["texts"])[0]
    # The Trainer hands dev rows back grouped by length, so each is matched to its nearest served row.
    gap = np.abs(seen["logits"][:, None, :] - served[None, :, :]).max(axis=2).min(axis=1)
    assert gap.max() < 1e-5


def test_data_parallel_training_with_torchrun(tiny_data: Path, tmp_path: Path) -> None:
    output = tmp_path / "ddp"
    torchrun = Path(sys.executable).with_name("torchrun")
    done = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", "cli.py", "train", "--data", str(tiny_data),
         "--output", str(output), "--epochs", "1", "--max-length", "48", "--no-onnx"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=os.environ | {"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    stance_info = json.loads((output / "stance.json").read_text())
    assert stance_info["train_processes"] == 2
    assert done.stdout.count("model written to") == 1  # rank 0 reports; rank 1 only trained
    assert json.loads((output / "metrics.json").read_text())["dev"]["n"] > 0
