"""Start fine-tuning from a fitted head: a linear probe on the pretrained features (LP-FT, Kumar et al., 2022).

A randomly initialised head sends large, arbitrary gradients into the encoder in the first steps, and the features
it distorts are the ones that must carry over to text unlike the training data. Fitting the head first, with the
encoder frozen, and then fine-tuning everything keeps more of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.config import ConfigError
from training.data import TrainingData
from training.metrics import label_ids

# Regularisation strengths tried; the one with the best dev macro-F1 is kept.
PROBE_C = (0.1, 1.0, 10.0)


def classifier_layer(model: PreTrainedModel) -> torch.nn.Linear:
    """The last linear layer with one output per label: the head's output layer, whatever the architecture."""
    layers = [
        module
        for module in model.modules()
        if isinstance(module, torch.nn.Linear) and module.out_features == model.config.num_labels
    ]
    if not layers:
        raise ConfigError(f"{type(model).__name__} has no output layer with one unit per label to start from a probe")
    return layers[-1]


def head_inputs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 64,
) -> np.ndarray:
    """What the output layer sees for each text (the pooled, pre-classifier features), in fp32 and eval mode."""
    order = np.argsort([len(text) for text in texts], kind="stable")  # similar lengths together: less padding
    chunks: list[torch.Tensor] = []
    hook = classifier_layer(model).register_forward_pre_hook(lambda module, args: chunks.append(args[0].float()))
    model.eval()
    try:
        with torch.inference_mode():
            for start in tqdm(range(0, len(texts), batch_size), desc="linear probe features", leave=False):
                batch = [texts[i] for i in order[start : start + batch_size]]
                model(**tokenizer(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"))
    finally:
        hook.remove()
    features = np.empty((len(texts), chunks[0].shape[1]), dtype=np.float32)
    features[order] = torch.cat(chunks).numpy()
    return features


def fit_probe(
    train: tuple[np.ndarray, np.ndarray], dev: tuple[np.ndarray, np.ndarray], balanced: bool
) -> tuple[LogisticRegression, float]:
    """Logistic regression on (features, label ids), its strength chosen by dev macro-F1; the probe and that F1."""
    fitted = []
    for c in PROBE_C:
        probe = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None).fit(*train)
        fitted.append((float(f1_score(dev[1], probe.predict(dev[0]), average="macro")), probe))
    best_f1, best = max(fitted, key=lambda entry: entry[0])  # the first of equals: the strongest regularisation
    return best, best_f1


def set_head(layer: torch.nn.Linear, probe: LogisticRegression) -> None:
    """Copy the probe into the output layer, so the model's logits give the probe's probabilities."""
    weight, bias = probe.coef_, probe.intercept_
    if weight.shape[0] == 1:  # two labels: scikit-learn keeps one logit, for the second class; split it evenly
        weight, bias = np.concatenate([-weight / 2, weight / 2]), np.concatenate([-bias / 2, bias / 2])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))


def init_head_by_probe(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, data: TrainingData, max_length: int, balanced: bool
) -> float:
    """Fit a linear probe on the frozen model's features and make it the model's head; return its dev macro-F1."""
    train, dev = (
        (head_inputs(model, tokenizer, [r["text"] for r in records], max_length), label_ids(records, data.labels))
        for records in (data.train, data.dev)
    )
    probe, dev_f1 = fit_probe(train, dev, balanced)
    set_head(classifier_layer(model), probe)
    model.train()
    return dev_f1
