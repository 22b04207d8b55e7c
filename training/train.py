"""Fine-tune a transformer for stance classification with the `transformers` Trainer."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import ProgressCallback

from data.records import to_dataset
from model.export import export_onnx
from model.folder import CONFIG_FILE, METRICS_FILE, STANCE_FILE
from model.predictor import StancePredictor, softmax
from training.calibration import expected_calibration_error, fit_temperature
from training.config import TrainConfig, resolve_base_model, resolve_precision
from training.data import TrainingData, load_training_data
from training.folder import check_output, staged_folder
from training.metrics import label_ids, score
from training.probe import init_head_by_probe
from training.report import plot_confusion, plot_training_curve, write_model_card


class EpochSummary(ProgressCallback):
    """Progress bars as usual, and one readable line per epoch instead of raw log dictionaries."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "eval_macro_f1" not in logs:
            return
        train_losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
        line = (
            f"epoch {logs['epoch']:.0f}/{args.num_train_epochs:.0f}  "
            f"train loss {train_losses[-1] if train_losses else float('nan'):.3f}  "
            f"dev loss {logs['eval_loss']:.3f}  dev macro-F1 {logs['eval_macro_f1']:.3f}  "
            f"dev accuracy {logs['eval_accuracy']:.3f}"
        )
        (self.training_bar.write if self.training_bar is not None else print)(line)


def dev_metrics(prediction: EvalPrediction) -> dict[str, float]:
    y_pred = prediction.predictions.argmax(axis=1)
    return {
        "macro_f1": f1_score(prediction.label_ids, y_pred, average="macro"),
        "accuracy": accuracy_score(prediction.label_ids, y_pred),
    }


def class_weighted_loss(weights: torch.Tensor):
    def loss(outputs, labels, num_items_in_batch=None):
        return torch.nn.functional.cross_entropy(outputs.logits, labels, weight=weights.to(outputs.logits.device))

    return loss


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def build_trainer(config: TrainConfig, data: TrainingData, base: Path, checkpoints: Path) -> Trainer:
    set_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)

    def encode(records: list[dict]):
        dataset = to_dataset(records, data.labels)
        return dataset.map(
            lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.max_length),
            batched=True,
            remove_columns=["id", "text", "speaker", "genre"],
        )

    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(data.labels),
        id2label=dict(enumerate(data.labels)),
        label2id={label: i for i, label in enumerate(data.labels)},
        ignore_mismatched_sizes=True,  # a base model may carry another task's head
    )
    model.get_input_embeddings().weight.requires_grad_(config.train_word_embeddings)
    if config.head_init == "probe":
        probe_f1 = init_head_by_probe(model, tokenizer, data, config.max_length, balanced=config.class_weights)
        if is_main_process():
            print(f"linear probe on the pretrained features: dev macro-F1 {probe_f1:.3f}; fine-tuning from it")
    counts = np.bincount(label_ids(data.train, data.labels), minlength=len(data.labels))
    weights = torch.tensor(len(data.train) / (len(data.labels) * counts), dtype=torch.float32)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=10,
        report_to="none",
        seed=config.seed,
        data_seed=config.seed,
        train_sampling_strategy="group_by_length",
        # Under torchrun: NCCL between GPUs, gloo between CPU processes; a single process needs neither.
        ddp_backend=("nccl" if torch.cuda.is_available() else "gloo") if world_size() > 1 else None,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        bf16=config.precision == "bf16",
        use_cpu=not torch.cuda.is_available(),  # the Trainer asks for it before it will autocast bf16 on a CPU
        disable_tqdm=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encode(data.train),
        eval_dataset=encode(data.dev),
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=dev_metrics,
        compute_loss_func=class_weighted_loss(weights) if config.class_weights else None,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
    )
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(EpochSummary())
    return trainer


def is_main_process() -> bool:
    """The only process, or rank 0 of a data-parallel run: the one that writes and reports."""
    return int(os.environ.get("RANK", "0")) == 0


def fit(config: TrainConfig) -> Path:
    """Train, calibrate, export and evaluate; write the model folder at `config.output`; return it."""
    data = load_training_data(config)
    base = resolve_base_model(config.base_model)
    config = dataclasses.replace(config, precision=resolve_precision(config.precision))
    output = Path(config.output)
    check_output(output)
    is_main = is_main_process()
    started = time.perf_counter()
    with staged_folder(output, publish=is_main) as staging:
        trainer = build_trainer(config, data, base, staging / "checkpoints")
        trainer.train()
        # Drop the bf16 autocast from the model's forward: the temperature must fit the fp32 logits it serves with.
        trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
        dev_prediction = trainer.predict(trainer.eval_dataset)
        if is_main:
            shutil.rmtree(staging / "checkpoints", ignore_errors=True)
            trainer.save_model(str(staging))
            (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the TOML config says it all
            write_folder(staging, trainer, config, data, base, dev_prediction, time.perf_counter() - started)
    return output


def write_folder(
    folder: Path,
    trainer: Trainer,
    config: TrainConfig,
    data: TrainingData,
    base: Path,
    dev_prediction,
    train_seconds: float,
) -> None:
    """Everything beside the weights that makes the folder self-describing."""
    dev_logits, dev_labels = dev_prediction.predictions, dev_prediction.label_ids
    temperature = fit_temperature(dev_logits, dev_labels)
    trained_at = datetime.now(timezone.utc)
    stance = {
        "labels": data.labels,
        "temperature": temperature,
        "max_length": config.max_length,
        "version": trained_at.strftime("%Y%m%d-%H%M%S"),
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "base_model": str(base),
        "train_seconds": round(train_seconds, 1),
        "train_processes": world_size(),
    }
    (folder / STANCE_FILE).write_text(json.dumps(stance, indent=2) + "\n", encoding="utf-8")
    (folder / CONFIG_FILE).write_text(config.to_toml(), encoding="utf-8")
    if config.export_onnx:
        export_onnx(folder)
    predictor = StancePredictor(folder)
    metrics = {
        "backend": predictor.backend.name,
        "n_train": len(data.train),
        "train_seconds": round(train_seconds, 1),
        "best_epoch": _best_epoch(trainer),
        "calibration": {
            "temperature": temperature,
            "dev_ece_before": expected_calibration_error(softmax(dev_logits), dev_labels),
            "dev_ece_after": expected_calibration_error(softmax(dev_logits, temperature), dev_labels),
        },
        "dev": score(dev_labels, softmax(dev_logits, temperature), data.labels),
    }
    for name, records in data.evaluation.items():
        texts = [r["text"] for r in records]
        metrics[name] = score(label_ids(records, data.labels), predictor.predict_proba(texts), data.labels)
    (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    headline = "test" if "test" in metrics else "dev"
    plot_confusion(metrics[headline], folder / "confusion_matrix.png", title=f"{headline} set")
    plot_training_curve(trainer.state.log_history, folder / "training_curve.png")
    write_model_card(folder, config, stance, metrics)
    make_readable(folder)


def make_readable(folder: Path) -> None:
    """Weights are saved owner-only; a server running as another user (the Docker image's) must read them."""
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _best_epoch(trainer: Trainer) -> float | None:
    best = trainer.state.best_metric
    epochs = [e["epoch"] for e in trainer.state.log_history if e.get("eval_macro_f1") == best]
    return epochs[0] if epochs else None
