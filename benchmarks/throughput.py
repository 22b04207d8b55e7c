"""Statements per second: `transformers.pipeline` against the project's predictor on the same model folder.

Each measurement runs in a fresh process, so its peak memory is its own. Usage:
    .venv/bin/python benchmarks/throughput.py --model models/default [--n 3000] [--single 300]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("train", "dev", "test", "challenge")


def statements(n: int) -> list[str]:
    texts = [
        json.loads(line)["text"]
        for split in SPLITS
        for line in (REPO / "data" / "ceasefire" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return [texts[i % len(texts)] for i in np.random.default_rng(0).permutation(max(n, len(texts)))[:n]]


def load(kind: str, model: str):
    """A function labelling a list of texts at a given batch size, for each contender."""
    if kind == "pipeline":
        from transformers import pipeline

        pipe = pipeline("text-classification", model=model, device="cpu")
        return lambda texts, batch_size: pipe(texts, batch_size=batch_size, truncation=True)
    from model import StancePredictor

    backend = kind.removeprefix("predictor-")
    predictors: dict[int, StancePredictor] = {}

    def run(texts: list[str], batch_size: int):
        if batch_size not in predictors:
            predictors[batch_size] = StancePredictor(model, backend=backend, batch_size=batch_size)
        return predictors[batch_size].predict_proba(texts)

    return run


def measure(kind: str, model: str, texts: list[str], batch_size: int, queue) -> None:
    label = load(kind, model)
    label(texts[:batch_size], batch_size)  # warm-up: first calls allocate and pick kernels
    start = time.perf_counter()
    if batch_size == 1:  # statements arriving one at a time
        for text in texts:
            label([text], 1)
    else:
        label(texts, batch_size)
    seconds = time.perf_counter() - start
    queue.put(
        {"per_second": len(texts) / seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    )


def in_fresh_process(kind: str, model: str, texts: list[str], batch_size: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(kind, model, texts, batch_size, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def agreement(model: str) -> dict:
    """The int8 graph against PyTorch on the test split: same labels, same macro-F1 within a point?"""
    from sklearn.metrics import f1_score

    from model import StancePredictor

    records = [json.loads(line) for line in (REPO / "data/ceasefire/test.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in records]
    results = {}
    for backend in ("onnx", "pytorch"):
        results[backend] = StancePredictor(model, backend=backend).predict(texts)
    truth = [r["label"] for r in records]
    return {
        "label_agreement": float(np.mean([a == b for a, b in zip(results["onnx"], results["pytorch"], strict=True)])),
        "macro_f1_onnx_int8": f1_score(truth, results["onnx"], average="macro"),
        "macro_f1_pytorch": f1_score(truth, results["pytorch"], average="macro"),
    }


def processor_name() -> str:
    """The CPU model: figures differ up to 2× between the machines this project runs on, so each says which."""
    cpuinfo = Path("/proc/cpuinfo")  # Linux only
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--n", type=int, default=3000, help="statements labelled in batches")
    parser.add_argument("--single", type=int, default=300, help="statements labelled one at a time")
    args = parser.parse_args()
    batch_texts, single_texts = statements(args.n), statements(args.single)
    print(f"machine: {processor_name()}, {len(os.sched_getaffinity(0))} cores")
    rows = []
    for batch_size, texts in ((64, batch_texts), (1, single_texts)):
        scores = {kind: in_fresh_process(kind, args.model, texts, batch_size) for kind in
                  ("pipeline", "predictor-pytorch", "predictor-auto")}  # fmt: skip
        base = scores["pipeline"]["per_second"]
        for kind, result in scores.items():
            rows.append((batch_size, kind, result["per_second"], result["per_second"] / base, result["peak_mb"]))
    print(f"{'batch':>5}  {'contender':<18}{'statements/s':>13}{'vs pipeline':>13}{'peak MB':>9}")
    for batch_size, kind, rate, ratio, peak in rows:
        print(f"{batch_size:>5}  {kind:<18}{rate:>13.1f}{ratio:>12.2f}x{peak:>9.0f}")
    print(json.dumps({"onnx_int8_vs_pytorch_on_test": agreement(args.model)}, indent=2))


if __name__ == "__main__":
    main()
