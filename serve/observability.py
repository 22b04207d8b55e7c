"""Prometheus metrics, and logs as JSON lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    """The server's metrics, in a registry of their own (so two apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_requests", "HTTP requests answered.", ["method", "path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "stance_request_seconds", "Time to answer a request.", ["path"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.errors = Counter("stance_errors", "Error responses, by error code.", ["error"], registry=self.registry)
        self.batch_size = Histogram(
            "stance_batch_size", "Texts per model call.", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.batch_seconds = Histogram(
            "stance_batch_seconds", "Time of one model call.", buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.texts = Counter("stance_texts_labelled", "Statements labelled.", registry=self.registry)
        self.reloads = Counter("stance_reloads", "Model reloads, by outcome.", ["outcome"], registry=self.registry)
        self.model = Gauge("stance_model_info", "The model served now (value 1).", ["version"], registry=self.registry)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        self.texts.inc(size)

    def serving(self, version: str | None) -> None:
        self.model.clear()
        self.model.labels(version=str(version)).set(1)


class JsonLines(logging.Formatter):
    """A log record as one JSON object: time, level, message, and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(line, ensure_ascii=False)


def json_logger(name: str, level: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())
    return logger
