"""Plots and the model card that go into a model folder."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: training runs on servers without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.config import TrainConfig  # noqa: E402


def plot_confusion(report: dict, path: Path, title: str) -> None:
    labels, matrix = report["labels"], np.array(report["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    ax.set_title(f"{title}: macro-F1 {report['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_training_curve(log_history: list[dict], path: Path) -> None:
    train = [(e["epoch"], e["loss"]) for e in log_history if "loss" in e]
    dev = [(e["epoch"], e["eval_loss"], e["eval_macro_f1"]) for e in log_history if "eval_macro_f1" in e]
    fig, loss_ax = plt.subplots(figsize=(6.4, 3.8))
    if train:
        loss_ax.plot(*zip(*train, strict=True), label="train loss", color="tab:blue", alpha=0.7)
    if dev:
        epochs, dev_loss, dev_f1 = zip(*dev, strict=True)
        loss_ax.plot(epochs, dev_loss, "o-", label="dev loss", color="tab:orange")
        f1_ax = loss_ax.twinx()
        f1_ax.plot(epochs, dev_f1, "s--", label="dev macro-F1", color="tab:green")
        f1_ax.set_ylabel("dev macro-F1")
        f1_ax.set_ylim(0, 1)
        f1_ax.legend(loc="center right")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    loss_ax.legend(loc="upper right")
    loss_ax.set_title("Training curve")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _results_table(metrics: dict) -> str:
    rows = ["| set | n | macro-F1 | accuracy | ECE |", "|---|---|---|---|---|"]
    for name, report in metrics.items():
        if isinstance(report, dict) and "macro_f1" in report:
            rows.append(
                f"| {name} | {report['n']} | {report['macro_f1']:.3f} | {report['accuracy']:.3f} | {report['ece']:.3f} |"
            )
    return "\n".join(rows)


def write_model_card(folder: Path, config: TrainConfig, stance: dict, metrics: dict) -> None:
    calibration = metrics["calibration"]
    card = f"""---
library_name: transformers
pipeline_tag: text-classification
language: en
---
# Ceasefire stance classifier `{stance['version']}`

Labels each statement about the Russia–Ukraine war with the stance it takes on a ceasefire:
{", ".join(f"`{label}`" for label in stance['labels'])}.

## Data
- Training: {metrics['n_train']} statements from {", ".join(config.data)}; dev: {metrics['dev']['n']} from
  `{config.dev or f"a {config.dev_fraction:.0%} stratified split of the training data"}`.
- The bundled corpus is described in `data/README.md` of the ceasefire-stance project.

## Settings
Base model `{stance['base_model']}`, {config.epochs} epochs at most (best epoch: {metrics['best_epoch']}),
batch size {config.batch_size}, learning rate {config.learning_rate}, max length {config.max_length} word pieces,
class-weighted loss: {config.class_weights}, precision {config.precision}, word embeddings
{"fine-tuned" if config.train_word_embeddings else "kept as pretrained"}, head started
{"from a linear probe on the pretrained features" if config.head_init == "probe" else "at random"}, seed {config.seed}.
Every setting: `training_config.toml`.
Trained in {stance['train_seconds']:.0f} s on {stance['trained_at']}.

## Results
Scores come from the `{metrics['backend']}` backend with calibrated probabilities.

{_results_table(metrics)}

Calibration: temperature {calibration['temperature']:.3f} fitted on dev; dev expected calibration error
{calibration['dev_ece_before']:.3f} before, {calibration['dev_ece_after']:.3f} after.

![confusion matrix](confusion_matrix.png) ![training curve](training_curve.png)

## Use
```python
from model import StancePredictor            # the project's fast predictor (ONNX int8 when exported)
StancePredictor("{config.output}").predict(["The guns must fall silent now."])

from transformers import pipeline            # plain transformers works too (uncalibrated scores)
pipeline("text-classification", model="{config.output}")("The guns must fall silent now.")
```

## Limits
- English only; statements, not whole articles (texts over {config.max_length} word pieces are truncated and flagged).
- Trained on statements written for this project in the style of 2025–2026 news; speakers, events and phrasing far
  from that may be labelled less reliably. The stance is the speaker's, as the annotation guide defines it.
- Probabilities are calibrated on the dev set's distribution; on very different data they may be over-confident.
"""
    (folder / "README.md").write_text(card, encoding="utf-8")
